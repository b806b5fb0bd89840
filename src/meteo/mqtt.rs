//! The MQTT sink: retained publishes at the chosen QoS, `{prefix}/status` as the availability
//! topic (`online` after every connect, `offline` on close and as the Last Will), and
//! reconnection after the broker went away.
//!
//! After every connect it reads back what the broker retains under the watched filters, so
//! that what a restarted broker lost is published again even though the source has not
//! changed:
//!
//! ```text
//! SUBSCRIBE meteo/aemet/#, meteo/status, …     (QoS 0)
//!   ← SUBACK, then every retained message      (retain flag set)
//! PUBLISH meteo/status "online" (retained)
//!   ← our own "online", live (retain flag clear): every retained message came before it
//! UNSUBSCRIBE
//! ```

use super::log;
use super::publish::Message;
use super::sink::{Readback, Sink, SinkError};
use crate::cli::common::{ServerArgs, TlsArgs};
use crate::client::{Client, ClientError, ClientOptions};
use crate::protocol::{Props, QoS, Version, Will};
use crate::topic::TopicName;
use bytes::Bytes;
use std::collections::HashMap;
use std::time::Duration;

/// How long reading back the retained topics may take before it counts as unknown.
const READBACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Publishes to a broker.
pub struct MqttSink {
    opts: ClientOptions,
    qos: QoS,
    status_topic: String,
    watch: Vec<String>,
    client: Option<Client>,
    readback: Readback,
}

fn broker(e: ClientError) -> SinkError {
    SinkError::Broker(e.to_string())
}

/// Client options from the command line: server, protocol version, TLS, id, keepalive, and the will
/// (`offline`, retained, on `status_topic`).
pub fn client_options(
    server: &ServerArgs,
    version: Version,
    tls: &TlsArgs,
    id: Option<&str>,
    keepalive: u16,
    qos: QoS,
    status_topic: &str,
) -> Result<ClientOptions, String> {
    let port = server.port_or_default(tls.enabled());
    let mut opts = ClientOptions::new(server.host.clone(), port);
    opts.websocket = server.websocket_path();
    opts.version = version;
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
    // Incoming messages are only the read-back after a connect, drained as they come.
    opts.message_buffer = 256;
    let topic = TopicName::new(status_topic).map_err(|e| format!("invalid --prefix: {e}"))?;
    opts.will = Some(Will {
        topic,
        payload: Bytes::from_static(b"offline"),
        qos,
        retain: true,
        properties: Props::default(),
    });
    opts.tls = tls.client_config().map_err(|e| e.to_string())?;
    Ok(opts)
}

impl MqttSink {
    /// A sink that connects on [`Sink::open`].
    pub fn new(opts: ClientOptions, qos: QoS, status_topic: String) -> Self {
        MqttSink {
            opts,
            qos,
            status_topic,
            watch: Vec::new(),
            client: None,
            readback: Readback::NotApplicable,
        }
    }

    /// Reads back the retained messages under `filters` after every connect.
    pub fn watching(mut self, filters: Vec<String>) -> Self {
        self.watch = filters;
        self
    }

    async fn connect(&mut self) -> Result<(), SinkError> {
        self.client = None;
        let (client, _) = Client::connect(self.opts.clone()).await.map_err(broker)?;
        self.readback = if self.watch.is_empty() {
            Readback::NotApplicable
        } else {
            self.read_back(&client).await?
        };
        if !matches!(self.readback, Readback::Known(_)) {
            client
                .publish(&self.status_topic, "online", self.qos, true)
                .await
                .map_err(broker)?;
        }
        self.client = Some(client);
        Ok(())
    }

    /// Subscribes to the watched filters, announces `online`, and collects the retained
    /// messages that arrive before our own `online` comes back. Publishes `online` unless the
    /// subscription was refused.
    async fn read_back(&self, client: &Client) -> Result<Readback, SinkError> {
        let filters: Vec<(&str, QoS)> = self
            .watch
            .iter()
            .map(|f| (f.as_str(), QoS::AtMostOnce))
            .collect();
        let ack = client.subscribe(&filters).await.map_err(broker)?;
        if ack.reasons.iter().any(|r| r.as_u8() >= 0x80) {
            log::debug("the broker refused to let us read back the retained topics");
            return Ok(Readback::Unknown);
        }
        client
            .publish(&self.status_topic, "online", self.qos, true)
            .await
            .map_err(broker)?;
        let mut held = HashMap::new();
        let collected = tokio::time::timeout(READBACK_TIMEOUT, async {
            loop {
                let m = client.recv().await?;
                let topic = m.topic.as_str().to_owned();
                if !m.retain && topic == self.status_topic {
                    return Ok::<(), ClientError>(());
                }
                if m.retain {
                    held.insert(topic, m.payload.to_vec());
                }
            }
        })
        .await;
        let filters: Vec<&str> = self.watch.iter().map(String::as_str).collect();
        client.unsubscribe(&filters).await.map_err(broker)?;
        while client.try_recv().is_some() {}
        match collected {
            Ok(Ok(())) => {
                log::debug(format_args!(
                    "the broker holds {} retained topics of ours",
                    held.len()
                ));
                Ok(Readback::Known(held))
            }
            Ok(Err(e)) => Err(broker(e)),
            Err(_) => {
                log::debug("reading back the retained topics timed out");
                Ok(Readback::Unknown)
            }
        }
    }

    /// True while the connection's I/O task runs: once it ends, `recv` answers at once with
    /// the reason. A stray message (published on our topics while we were subscribed) is
    /// dropped.
    async fn alive(&self) -> bool {
        let Some(c) = &self.client else {
            return false;
        };
        loop {
            match tokio::time::timeout(Duration::ZERO, c.recv()).await {
                Err(_) => return true,
                Ok(Ok(_)) => continue,
                Ok(Err(_)) => return false,
            }
        }
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

    fn take_readback(&mut self) -> Readback {
        std::mem::replace(&mut self.readback, Readback::NotApplicable)
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
