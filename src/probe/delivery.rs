//! Does a message get through: QoS 0, 1 and 2 round trips, retained messages, `+` and `#`
//! wildcards, `$share/` subscriptions, wills on an abrupt close, and `$SYS`. Each check uses
//! its own connections and topics, so they can run side by side and one that gets its
//! connection closed spoils nothing else.

use super::outcome::{Check, Outcome, Status, fmt_duration};
use super::target::{Caps, Target, recv_until, refused, why};
use crate::client::Client;
use crate::protocol::{QoS, Version, Will};
use crate::topic::TopicName;
use bytes::Bytes;
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// Messages per round-trip and shared-subscription check.
pub const MESSAGES: usize = 10;
/// How long a check that already has its answer waits for extra (duplicate) deliveries.
const GRACE: Duration = Duration::from_millis(200);

fn outcome(
    check: Check,
    version: Version,
    status: Status,
    figure: String,
    value: serde_json::Value,
) -> Outcome {
    Outcome::new(check, Some(version), status, figure, value)
}

/// Connects and subscribes to `filter`; `Err` with the words for the failure.
async fn subscriber(t: &Target, v: Version, filter: &str, qos: QoS) -> Result<Client, String> {
    let c = t.connect(v).await.map_err(|e| why(&e))?;
    let ack = c.subscribe(&[(filter, qos)]).await.map_err(|e| why(&e))?;
    match refused(&ack) {
        Some(r) => Err(format!("subscription refused: {r}")),
        None => Ok(c),
    }
}

/// Publishes `MESSAGES` messages at `qos` to a topic the same connection subscribes to, and
/// times their return.
pub async fn round_trip(t: &Target, v: Version, qos: QoS, caps: Caps) -> Outcome {
    let check = match qos {
        QoS::AtMostOnce => Check::Qos0,
        QoS::AtLeastOnce => Check::Qos1,
        QoS::ExactlyOnce => Check::Qos2,
    };
    let say = |status, figure: String, value| outcome(check, v, status, figure, value);
    if qos > caps.max_qos {
        let why = format!("the broker's maximum QoS is {}", caps.max_qos as u8);
        return say(Status::NotApplicable, why, json!(null));
    }
    let deadline = t.deadline();
    let topic = t.topic(check.id());
    let c = match subscriber(t, v, &topic, qos).await {
        Ok(c) => c,
        Err(why) => return say(Status::No, why, json!({"received": 0})),
    };
    let started = Instant::now();
    let mut pending = Vec::with_capacity(MESSAGES);
    for i in 0..MESSAGES {
        match c
            .start_publish(&topic, format!("mq test {i}"), qos, false)
            .await
        {
            Ok(p) => pending.push(p),
            Err(e) => return say(Status::No, why(&e), json!({"received": 0})),
        }
    }
    let (mut received, mut last, mut delivered_qos) = (0, started, QoS::ExactlyOnce);
    while received < MESSAGES {
        let Some(m) = recv_until(&c, deadline).await else {
            break;
        };
        received += 1;
        last = Instant::now();
        delivered_qos = delivered_qos.min(m.qos);
    }
    let mut refusal = None;
    for p in pending {
        if let Ok(Err(e)) = tokio::time::timeout_at(deadline, p.wait()).await {
            refusal.get_or_insert(why(&e));
        }
    }
    let _ = c.disconnect().await;
    let took = last - started;
    let value = json!({"sent": MESSAGES, "received": received, "ms": took.as_secs_f64() * 1e3});
    if received == MESSAGES {
        let mut figure = format!(
            "{received} of {MESSAGES} received in {}",
            fmt_duration(took)
        );
        if delivered_qos < qos {
            figure.push_str(&format!(" (delivered at QoS {})", delivered_qos as u8));
        }
        return say(Status::Ok, figure, value);
    }
    let mut figure = format!("{received} of {MESSAGES} received");
    if let Some(r) = refusal {
        figure.push_str(&format!(" ({r})"));
    }
    say(Status::No, figure, value)
}

/// A retained message reaches a later subscriber with its retain flag; it is removed after.
pub async fn retained(t: &Target, v: Version, caps: Caps) -> Outcome {
    let say = |status, figure: &str| {
        outcome(
            Check::Retained,
            v,
            status,
            figure.to_string(),
            json!(status == Status::Ok),
        )
    };
    if !caps.retain {
        return say(Status::NotApplicable, "retain not available (CONNACK)");
    }
    let deadline = t.deadline();
    let topic = t.topic("retained");
    let result = async {
        let c = t.connect(v).await.map_err(|e| why(&e))?;
        c.publish(&topic, "mq test retained", QoS::AtLeastOnce, true)
            .await
            .map_err(|e| why(&e))?;
        let ack = c
            .subscribe(&[(topic.as_str(), QoS::AtLeastOnce)])
            .await
            .map_err(|e| why(&e))?;
        if let Some(r) = refused(&ack) {
            return Err(format!("subscription refused: {r}"));
        }
        let got = recv_until(&c, deadline).await;
        let _ = c.disconnect().await;
        match got {
            Some(m) if m.retain => Ok("delivered on subscribe, retain flag set"),
            Some(_) => Err("delivered without the retain flag".into()),
            None => Err("not delivered on subscribe".into()),
        }
    }
    .await;
    clear_retained(t, v, &topic).await;
    match result {
        Ok(figure) => say(Status::Ok, figure),
        Err(why) => say(Status::No, &why),
    }
}

/// Removes the retained message on `topic` (an empty retained publication), on a fresh
/// connection in case the check's own was closed.
async fn clear_retained(t: &Target, v: Version, topic: &str) {
    if let Ok(c) = t.connect(v).await {
        let _ = c.publish(topic, Bytes::new(), QoS::AtLeastOnce, true).await;
        let _ = c.disconnect().await;
    }
}

/// A message published on `topic` reaches a subscription to `filter`.
pub async fn wildcard(t: &Target, v: Version, hash: bool) -> Outcome {
    let (check, filter, topic) = if hash {
        (Check::WildcardHash, t.topic("hash/#"), t.topic("hash/a/b"))
    } else {
        (
            Check::WildcardPlus,
            t.topic("plus/+/x"),
            t.topic("plus/a/x"),
        )
    };
    let say =
        |status, figure: String| outcome(check, v, status, figure, json!(status == Status::Ok));
    let deadline = t.deadline();
    let c = match subscriber(t, v, &filter, QoS::AtLeastOnce).await {
        Ok(c) => c,
        Err(why) => return say(Status::No, why),
    };
    let sent = c.publish(&topic, "mq test", QoS::AtLeastOnce, false).await;
    let got = recv_until(&c, deadline).await;
    let _ = c.disconnect().await;
    match (sent, got) {
        (Err(e), _) => say(Status::No, why(&e)),
        (Ok(()), Some(m)) if m.topic.as_str() == topic => {
            say(Status::Ok, format!("{topic} matched {filter}"))
        }
        _ => say(Status::No, format!("{topic} did not reach {filter}")),
    }
}

/// Two subscribers of one `$share/` group split the messages between them.
pub async fn shared(t: &Target, v: Version) -> Outcome {
    let say = |status, figure: String, value| outcome(Check::Shared, v, status, figure, value);
    let deadline = t.deadline();
    let topic = t.topic("shared");
    let filter = format!("$share/mq{}/{topic}", super::target::random_tag(6));
    let (a, b) = match tokio::join!(
        subscriber(t, v, &filter, QoS::AtLeastOnce),
        subscriber(t, v, &filter, QoS::AtLeastOnce)
    ) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(why), _) | (_, Err(why)) => return say(Status::No, why, json!(null)),
    };
    let publisher = match t.connect(v).await {
        Ok(p) => p,
        Err(e) => return say(Status::No, why(&e), json!(null)),
    };
    for i in 0..MESSAGES {
        let _ = publisher
            .publish(&topic, format!("mq test {i}"), QoS::AtLeastOnce, false)
            .await;
    }
    let _ = publisher.disconnect().await;
    let (mut na, mut nb) = (0usize, 0usize);
    let mut until = deadline;
    while na + nb < 2 * MESSAGES {
        tokio::select! {
            m = recv_until(&a, until) => match m { Some(_) => na += 1, None => break },
            m = recv_until(&b, until) => match m { Some(_) => nb += 1, None => break },
        }
        if na + nb == MESSAGES {
            until = until.min(Instant::now() + GRACE);
        }
    }
    let _ = tokio::join!(a.disconnect(), b.disconnect());
    let value = json!({"published": MESSAGES, "first": na, "second": nb});
    match (na + nb, na.min(nb)) {
        (n, _) if n == MESSAGES => say(
            Status::Ok,
            format!("{MESSAGES} messages split {na}/{nb} between 2 subscribers"),
            value,
        ),
        (n, m) if n == 2 * MESSAGES && m == MESSAGES => say(
            Status::No,
            "each subscriber got every message: not shared".into(),
            value,
        ),
        (0, _) => say(Status::No, "nothing delivered".into(), value),
        (n, _) => say(
            Status::No,
            format!("{n} deliveries of {MESSAGES} messages ({na}/{nb})"),
            value,
        ),
    }
}

/// A client that goes away without DISCONNECT has its will published.
pub async fn will(t: &Target, v: Version) -> Outcome {
    let say = |status, figure: String| {
        outcome(Check::Will, v, status, figure, json!(status == Status::Ok))
    };
    let deadline = t.deadline();
    let topic = t.topic("will");
    let watcher = match subscriber(t, v, &topic, QoS::AtLeastOnce).await {
        Ok(c) => c,
        Err(why) => return say(Status::No, why),
    };
    let Ok(will_topic) = TopicName::new(topic.as_str()) else {
        return say(Status::No, "invalid topic prefix".into());
    };
    let mut opts = t.options(v);
    opts.will = Some(Will {
        topic: will_topic,
        payload: Bytes::from_static(b"mq test will"),
        qos: QoS::AtLeastOnce,
        retain: false,
        properties: Default::default(),
    });
    let dying = match Client::connect(opts).await {
        Ok((c, _)) => c,
        Err(e) => return say(Status::No, format!("connect with a will: {}", why(&e))),
    };
    let closed = Instant::now();
    // Dropping the last handle closes the socket without DISCONNECT.
    drop(dying);
    let got = recv_until(&watcher, deadline).await;
    let _ = watcher.disconnect().await;
    match got {
        Some(m) if m.payload.as_ref() == b"mq test will" => say(
            Status::Ok,
            format!(
                "published {} after the close",
                fmt_duration(closed.elapsed())
            ),
        ),
        Some(_) => say(Status::No, "a different message arrived".into()),
        None => say(
            Status::No,
            format!("not published within {}", fmt_duration(t.per_check)),
        ),
    }
}

/// `$SYS/#` can be subscribed to and something is published there; names the broker's version
/// when `$SYS/broker/version` comes by.
pub async fn sys(t: &Target, v: Version) -> Outcome {
    let say = |status, figure: String, value| outcome(Check::Sys, v, status, figure, value);
    let deadline = t.deadline();
    let c = match subscriber(t, v, "$SYS/#", QoS::AtMostOnce).await {
        Ok(c) => c,
        Err(why) => return say(Status::No, why, json!(null)),
    };
    let Some(first) = recv_until(&c, deadline).await else {
        let _ = c.disconnect().await;
        let figure = format!("nothing published within {}", fmt_duration(t.per_check));
        return say(Status::No, figure, json!(null));
    };
    let mut topics = std::collections::BTreeSet::new();
    let mut version = None;
    let until = deadline.min(Instant::now() + GRACE);
    let mut next = Some(first);
    while let Some(m) = next {
        if m.topic.as_str() == "$SYS/broker/version" {
            version = Some(String::from_utf8_lossy(&m.payload).into_owned());
        }
        topics.insert(m.topic.as_str().to_string());
        next = recv_until(&c, until).await;
    }
    let _ = c.disconnect().await;
    let mut figure = format!("{} topics", topics.len());
    if let Some(v) = &version {
        figure.push_str(&format!(", {v}"));
    }
    say(
        Status::Ok,
        figure,
        json!({"topics": topics.len(), "version": version}),
    )
}
