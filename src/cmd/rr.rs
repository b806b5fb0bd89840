//! `mq rr`: mosquitto_rr. Subscribes to the response topic, publishes the request with that
//! topic as its v5 response-topic property, prints the first response and leaves.

use super::{Error, Tool};
use crate::cli::connect::{self, ConnectPlan, Usage};
use crate::cli::properties;
use crate::cli::rr::RrArgs;
use crate::client::{Client, ClientError};
use crate::format::printer::Printer;
use crate::protocol::{Props, Publish, RetainHandling, Subscription, SubscriptionOptions};
use crate::topic::{TopicFilter, TopicName};
use bytes::Bytes;
use std::time::Duration;

fn payload(a: &RrArgs) -> Result<Option<Bytes>, Error> {
    let n = usize::from(a.message.is_some())
        + usize::from(a.file.is_some())
        + usize::from(a.stdin_file)
        + usize::from(a.null_message);
    if n > 1 {
        return Err(Error::usage(Tool::Rr)(Usage(
            "Only one type of message can be sent at once.\n".into(),
        )));
    }
    if let Some(m) = &a.message {
        return Ok(Some(Bytes::from(m.clone())));
    }
    if a.null_message {
        return Ok(Some(Bytes::new()));
    }
    super::publish::load_payload(a.file.as_deref(), a.stdin_file).map_err(Error::Failed)
}

/// The checked command.
struct Plan {
    conn: ConnectPlan,
    request: Publish,
    subscription: Subscription,
    sub_props: crate::protocol::Properties,
    printer: Printer,
    timeout: Option<Duration>,
    no_retained: bool,
}

fn plan(a: &RrArgs) -> Result<Plan, Error> {
    let usage = Error::usage(Tool::Rr);
    let props = properties::parse(&a.client.property).map_err(usage)?;
    let conn = connect::plan(
        &a.server,
        a.version.protocol_version,
        &a.client,
        &a.tls,
        &a.will,
        &props,
        true,
    )
    .map_err(usage)?;
    let body = payload(a)?;
    let topic = a.topic.clone().or_else(|| conn.url_topic.clone());
    let (Some(topic), Some(resp), Some(body)) = (topic, a.response_topic.clone(), body) else {
        return Err(Error::Failed(
            "Error: All of topic, message, and response topic must be supplied.\n\
             Use 'mq rr --help' to see usage."
                .into(),
        ));
    };
    let topic = TopicName::new(topic.as_str()).map_err(|_| {
        usage(Usage(format!(
            "Invalid publish topic '{topic}', does it contain '+' or '#'?"
        )))
    })?;
    let filter = TopicFilter::new(resp.as_str())
        .and_then(|f| TopicName::new(resp.as_str()).map(|_| f))
        .map_err(|_| {
            usage(Usage(format!(
                "Invalid response topic '{resp}', does it contain '+' or '#'?"
            )))
        })?;
    let printer = Printer::new(&a.output, conn.quiet).map_err(|e| usage(Usage(e.to_string())))?;
    let mut request_props = props.publish.clone();
    request_props.response_topic = Some(resp);
    let retain_handling = if a.no_retained {
        RetainHandling::DoNotSend
    } else {
        RetainHandling::SendOnSubscribe
    };
    Ok(Plan {
        conn,
        request: Publish {
            dup: false,
            qos: a.qos,
            retain: false,
            topic,
            packet_id: None,
            properties: Props::new(request_props),
            payload: body,
        },
        subscription: Subscription {
            filter,
            options: SubscriptionOptions {
                qos: a.qos,
                retain_as_published: a.retain_as_published,
                retain_handling,
                ..SubscriptionOptions::default()
            },
        },
        sub_props: props.subscribe,
        printer,
        timeout: a
            .timeout
            .filter(|w| *w > 0)
            .map(|w| Duration::from_secs(w as u64)),
        no_retained: a.no_retained,
    })
}

/// Runs `mq rr`.
pub async fn run(a: RrArgs) -> Result<(), Error> {
    let mut plan = plan(&a)?;
    let quiet = plan.conn.quiet;
    let started = tokio::time::Instant::now();
    let (client, _) = Client::connect(plan.conn.options.clone())
        .await
        .map_err(|e| Error::Connect(e).quiet_if(quiet))?;
    let exchange = async {
        client
            .subscribe_with(vec![plan.subscription.clone()], plan.sub_props.clone())
            .await?;
        client.publish_message(plan.request.clone()).await?;
        loop {
            let m = client.recv().await?;
            if !(plan.no_retained && m.retain) {
                return Ok::<_, ClientError>(m);
            }
        }
    };
    let deadline = async {
        match plan.timeout {
            Some(t) => tokio::time::sleep_until(started + t).await,
            None => std::future::pending().await,
        }
    };
    let result = tokio::select! {
        r = exchange => match r {
            Ok(m) => {
                plan.printer.push(&m);
                let _ = plan.printer.flush();
                Ok(())
            }
            Err(e) => return Err(Error::Lost(e).quiet_if(quiet)),
        },
        _ = deadline => Err(Error::TimedOut.quiet_if(quiet)),
    };
    let _ = client.disconnect().await;
    result
}
