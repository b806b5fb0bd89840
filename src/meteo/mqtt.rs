//! The MQTT sink: retained publishes at the chosen QoS, `{prefix}/status` as the availability
//! topic (`online` after every connect, `offline` on close and as the Last Will), and
//! reconnection after the broker went away.

use super::publish::Message;
use super::sink::{Sink, SinkError};
use crate::cli::common::{ServerArgs, TlsArgs};
use crate::client::{Client, ClientError, ClientOptions};
use crate::protocol::{Props, QoS, Will};
use crate::topic::TopicName;
use bytes::Bytes;
use std::time::Duration;

/// Publishes to a broker.
pub struct MqttSink {
    opts: ClientOptions,
    qos: QoS,
    status_topic: String,
    client: Option<Client>,
}

fn broker(e: ClientError) -> SinkError {
    SinkError::Broker(e.to_string())
}

/// Client options from the command line: server, TLS, id, keepalive, and the will
/// (`offline`, retained, on `status_topic`).
pub fn client_options(
    server: &ServerArgs,
    tls: &TlsArgs,
    id: Option<&str>,
    keepalive: u16,
    qos: QoS,
    status_topic: &str,
) -> Result<ClientOptions, String> {
    let port = server.port_or_default(tls.enabled());
    let mut opts = ClientOptions::new(server.host.clone(), port);
    opts.websocket = server.websocket_path();
    opts.version = server.protocol_version;
    opts.client_id = id.map_or_else(|| format!("mq-meteo-{}", std::process::id()), str::to_owned);
    opts.keep_alive = keepalive;
    opts.username.clone_from(&server.username);
    let password = match &server.pw_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .to_owned(),
        ),
        None => server.password.clone(),
    };
    opts.password = password.map(Bytes::from);
    // Only publishes: never let incoming messages stall the client.
    opts.message_buffer = 0;
    let topic = TopicName::new(status_topic).map_err(|e| format!("invalid --prefix: {e}"))?;
    opts.will = Some(Will {
        topic,
        payload: Bytes::from_static(b"offline"),
        qos,
        retain: true,
        properties: Props::default(),
    });
    if tls.enabled() {
        let t = tls.to_options(false, None).map_err(|e| e.to_string())?;
        opts.tls = Some(t.client_config().map_err(|e| e.to_string())?);
    }
    Ok(opts)
}

impl MqttSink {
    /// A sink that connects on [`Sink::open`].
    pub fn new(opts: ClientOptions, qos: QoS, status_topic: String) -> Self {
        MqttSink {
            opts,
            qos,
            status_topic,
            client: None,
        }
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        self.client = None;
        let (client, _) = Client::connect(self.opts.clone()).await.map_err(broker)?;
        client
            .publish(&self.status_topic, "online", self.qos, true)
            .await
            .map_err(broker)?;
        self.client = Some(client);
        Ok(())
    }

    /// True while the connection's I/O task runs: once it ends, `recv` answers at once.
    async fn alive(&self) -> bool {
        let Some(c) = &self.client else {
            return false;
        };
        tokio::time::timeout(Duration::ZERO, c.recv())
            .await
            .is_err()
    }
}

impl Sink for MqttSink {
    async fn open(&mut self) -> Result<(), SinkError> {
        self.connect().await
    }

    async fn publish(&mut self, messages: &[Message]) -> Result<(), SinkError> {
        let Some(client) = &self.client else {
            return Err(SinkError::Broker("not connected".into()));
        };
        let result = async {
            // Pipelined: hand every publish over, then wait for the acknowledgements.
            let mut pending = Vec::with_capacity(messages.len());
            for m in messages {
                let p = client
                    .start_publish(&m.topic, Bytes::from(m.payload.clone()), self.qos, true)
                    .await?;
                pending.push(p);
            }
            for p in pending {
                p.wait().await?;
            }
            Ok::<(), ClientError>(())
        }
        .await;
        if let Err(e) = result {
            self.client = None;
            return Err(broker(e));
        }
        Ok(())
    }

    async fn recover(&mut self) -> Result<bool, SinkError> {
        if self.alive().await {
            return Ok(false);
        }
        self.connect().await?;
        Ok(true)
    }

    async fn close(&mut self) -> Result<(), SinkError> {
        let Some(client) = self.client.take() else {
            return Err(SinkError::Broker("not connected".into()));
        };
        client
            .publish(&self.status_topic, "offline", self.qos, true)
            .await
            .map_err(broker)?;
        client.disconnect().await.map_err(broker)
    }
}
