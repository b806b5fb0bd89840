//! `mq rr`: mosquitto_rr. Subscribes to the response topic, publishes the request with that
//! topic as its v5 response-topic property, prints the first response and leaves.

use super::connect::{self, Tool, Usage};
use super::output::Printer;
use super::properties;
use crate::cli::rr::RrArgs;
use crate::client::{Client, ClientError};
use crate::protocol::{Props, Publish, RetainHandling, Subscription, SubscriptionOptions};
use crate::topic::{TopicFilter, TopicName};
use bytes::Bytes;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

fn payload(a: &RrArgs) -> Result<Option<Bytes>, ExitCode> {
    let n = usize::from(a.message.is_some())
        + usize::from(a.file.is_some())
        + usize::from(a.stdin_file)
        + usize::from(a.null_message);
    if n > 1 {
        return Err(
            Usage("Only one type of message can be sent at once.\n".into()).report(Tool::Rr),
        );
    }
    if let Some(m) = &a.message {
        return Ok(Some(Bytes::from(m.clone())));
    }
    if a.null_message {
        return Ok(Some(Bytes::new()));
    }
    if let Some(f) = &a.file {
        return match std::fs::read(f) {
            Ok(d) => Ok(Some(Bytes::from(d))),
            Err(_) => {
                let f = f.display();
                eprintln!("Error: Unable to open file \"{f}\".\nError loading input file \"{f}\".");
                Err(ExitCode::from(1))
            }
        };
    }
    if a.stdin_file {
        let mut data = Vec::new();
        let _ = std::io::stdin().lock().read_to_end(&mut data);
        if data.is_empty() {
            eprintln!("Error: Zero length input.\nError loading input from stdin.");
            return Err(ExitCode::from(1));
        }
        return Ok(Some(Bytes::from(data)));
    }
    Ok(None)
}

/// Runs `mq rr`.
pub async fn run(a: RrArgs) -> ExitCode {
    let usage = |u: Usage| u.report(Tool::Rr);
    let props = match properties::parse(&a.client.property) {
        Ok(p) => p,
        Err(u) => return usage(u),
    };
    let conn = match connect::plan(&a.server, &a.client, &a.tls, &a.will, &props, true) {
        Ok(c) => c,
        Err(u) => return usage(u),
    };
    let body = match payload(&a) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let topic = a.topic.clone().or_else(|| conn.url_topic.clone());
    let (Some(topic), Some(resp), Some(body)) = (topic, a.response_topic.clone(), body) else {
        eprintln!("Error: All of topic, message, and response topic must be supplied.");
        eprintln!("Use 'mq rr --help' to see usage.");
        return ExitCode::from(1);
    };
    let Ok(topic) = TopicName::new(topic.as_str()) else {
        return usage(Usage(format!(
            "Invalid publish topic '{topic}', does it contain '+' or '#'?"
        )));
    };
    let Ok(resp_filter) =
        TopicFilter::new(resp.as_str()).and_then(|f| TopicName::new(resp.as_str()).map(|_| f))
    else {
        return usage(Usage(format!(
            "Invalid response topic '{resp}', does it contain '+' or '#'?"
        )));
    };
    let mut printer = match Printer::new(
        a.format.as_deref(),
        a.json,
        a.verbose,
        a.pretty,
        a.no_eol,
        conn.quiet,
    ) {
        Ok(p) => p,
        Err(e) => return usage(Usage(e.to_string())),
    };
    let timeout = a
        .timeout
        .filter(|w| *w > 0)
        .map(|w| Duration::from_secs(w as u64));
    let quiet = conn.quiet;
    let started = tokio::time::Instant::now();
    let client = match Client::connect(conn.options.clone()).await {
        Ok((c, _)) => c,
        Err(e) => return connect::report_connect_error(&e, quiet),
    };
    let mut request_props = props.publish.clone();
    request_props.response_topic = Some(resp.clone());
    let request = Publish {
        dup: false,
        qos: a.qos,
        retain: false,
        topic,
        packet_id: None,
        properties: Props::new(request_props),
        payload: body,
    };
    let sub = Subscription {
        filter: resp_filter,
        options: SubscriptionOptions {
            qos: a.qos,
            retain_as_published: a.retain_as_published,
            retain_handling: if a.no_retained {
                RetainHandling::DoNotSend
            } else {
                RetainHandling::SendOnSubscribe
            },
            ..SubscriptionOptions::default()
        },
    };
    let exchange = async {
        client
            .subscribe_with(vec![sub], props.subscribe.clone())
            .await?;
        client.publish_message(request).await?;
        loop {
            let m = client.recv().await?;
            if !(a.no_retained && m.retain) {
                return Ok::<_, ClientError>(m);
            }
        }
    };
    let deadline = async {
        match timeout {
            Some(t) => tokio::time::sleep_until(started + t).await,
            None => std::future::pending().await,
        }
    };
    let code = tokio::select! {
        r = exchange => match r {
            Ok(m) => {
                printer.push(&m);
                let _ = printer.flush();
                ExitCode::SUCCESS
            }
            Err(e) => return connect::lost_connection_status(&e, quiet),
        },
        _ = deadline => {
            if !quiet {
                eprintln!("Timed out");
            }
            ExitCode::from(27)
        }
    };
    let _ = client.disconnect().await;
    code
}
