//! `mq test`: what a broker supports and where its limits are, found by trying.
//!
//! A run connects with each protocol version, then, for every version asked for and accepted,
//! reads the MQTT 5.0 CONNACK's limits, times QoS 0/1/2 round trips, tries retained messages,
//! wildcards, shared subscriptions, wills and `$SYS`, and searches the longest topic and client
//! id, the largest payload and the characters refused in topics. Every check is bounded by the
//! per-check time; the light delivery checks run side by side, the timed and heavy ones alone.
//!
//! It leaves nothing behind: client ids and topics carry a random run tag, every connection
//! starts clean with session expiry 0 (the one that asks for a longer session ends it), and the
//! retained message it sets is removed.
//!
//! | module | checks |
//! |---|---|
//! | [`access`] | protocol versions, anonymous access, zero-length client id (3.1.1) |
//! | [`tls`] | TLS session and server certificate |
//! | [`connack`] | every MQTT 5.0 CONNACK limit, the assigned client id |
//! | [`delivery`] | QoS round trips, retained, `+`/`#`, `$share/`, will, `$SYS` |
//! | [`limits`] | longest topic and client id, characters refused in topics |
//! | [`payload`] | largest payload (over [`raw`], which never holds a payload in memory) |
//! | [`search`], [`target`], [`outcome`] | the search strategy, the run's names, the results |

pub mod access;
pub mod connack;
pub mod delivery;
pub mod limits;
pub mod outcome;
pub mod payload;
pub mod raw;
pub mod search;
pub mod target;
pub mod tls;

pub use outcome::{Check, Outcome, Status};
pub use target::{Caps, Target};

use crate::client::ClientError;
use crate::protocol::{QoS, Version};
use serde_json::json;
use std::time::Duration;

/// Why `mq test` could not test the broker at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No connection below MQTT: refused, unreachable, a failed TLS handshake.
    #[error("cannot connect to {broker}: {reason}")]
    Unreachable {
        /// The broker's address.
        broker: String,
        /// What went wrong.
        reason: ClientError,
    },
    /// The broker answered but let no protocol version in.
    #[error("{broker} accepted no connection: {reason}")]
    Refused {
        /// The broker's address.
        broker: String,
        /// The first refusal.
        reason: String,
    },
}

/// Sees the checks start and finish: spinners on a terminal, lines on stdout.
pub trait Observer {
    /// `checks` are starting (side by side when there are several).
    fn start(&mut self, checks: &[Check]);
    /// Their outcomes, in report order.
    fn done(&mut self, outcomes: &[Outcome]);
}

/// Runs every check against `t` for `versions` (3.1.1 and/or 5.0), reporting to `obs`.
pub async fn run(
    t: &Target,
    versions: &[Version],
    obs: &mut dyn Observer,
) -> Result<(), ProbeError> {
    obs.start(&[Check::Protocol]);
    let found = access::versions(t)
        .await
        .map_err(|reason| ProbeError::Unreachable {
            broker: t.address(),
            reason,
        })?;
    obs.done(&found.outcomes);
    obs.start(&[Check::Anonymous, Check::Tls, Check::Certificate]);
    let (anonymous, tls) = tokio::join!(
        bounded(t, Check::Anonymous, None, access::anonymous(t, &found)),
        tokio::time::timeout(t.per_check + MARGIN, tls::session(t)),
    );
    let mut outcomes = vec![anonymous];
    outcomes.extend(tls.unwrap_or_else(|_| vec![silent(t, Check::Tls, None)]));
    obs.done(&outcomes);
    if found.accepted.is_empty() {
        return Err(ProbeError::Refused {
            broker: t.address(),
            reason: found
                .failure
                .as_ref()
                .map_or("no CONNACK".into(), target::why),
        });
    }
    for &v in versions {
        if found.accepted.contains(&v) {
            version_checks(t, v, obs).await;
        } else {
            obs.done(&[Outcome::new(
                Check::Skipped,
                Some(v),
                Status::NotApplicable,
                "the broker refused this version",
                json!(null),
            )]);
        }
    }
    Ok(())
}

/// How long after its own deadline a check is cut off. Checks stop at the deadline with what
/// they found; this catches one whose broker stopped answering in the middle of an exchange.
const MARGIN: Duration = Duration::from_secs(2);

/// The outcome of a check that got no answer in time.
fn silent(t: &Target, check: Check, version: Option<Version>) -> Outcome {
    let figure = format!(
        "no answer within {}",
        outcome::fmt_duration(t.per_check + MARGIN)
    );
    Outcome::new(check, version, Status::No, figure, json!(null))
}

/// `run`, cut off [`MARGIN`] after the check's time.
async fn bounded(
    t: &Target,
    check: Check,
    version: Option<Version>,
    run: impl std::future::Future<Output = Outcome>,
) -> Outcome {
    tokio::time::timeout(t.per_check + MARGIN, run)
        .await
        .unwrap_or_else(|_| silent(t, check, version))
}

/// Runs `checks` one after the other, each with its own spinner.
macro_rules! one_by_one {
    ($obs:expr, $t:expr, $v:expr, $($check:expr => $run:expr),* $(,)?) => {
        $(
            $obs.start(&[$check]);
            let outcome = bounded($t, $check, Some($v), $run).await;
            $obs.done(&[outcome]);
        )*
    };
}

/// The checks read from one MQTT 5.0 CONNACK.
const CONNACK: &[Check] = &[
    Check::MaximumQos,
    Check::RetainAvailable,
    Check::WildcardAvailable,
    Check::SharedAvailable,
    Check::SubscriptionIds,
    Check::ReceiveMaximum,
    Check::MaximumPacketSize,
    Check::TopicAliasMaximum,
    Check::ServerKeepAlive,
    Check::SessionExpiry,
    Check::AssignedClientId,
    Check::EmptyClientId,
];

/// Every check of one version.
async fn version_checks(t: &Target, v: Version, obs: &mut dyn Observer) {
    let mut caps = Caps::default();
    if v.is_v5() {
        obs.start(CONNACK);
        match tokio::time::timeout(t.per_check + MARGIN, connack::announced(t)).await {
            Ok(Ok(a)) => {
                obs.done(&a.outcomes);
                caps = a.caps;
            }
            Ok(Err(e)) => obs.done(&[Outcome::new(
                Check::MaximumQos,
                Some(v),
                Status::No,
                format!("no CONNACK to read: {}", target::why(&e)),
                json!(null),
            )]),
            Err(_) => obs.done(&[silent(t, Check::MaximumQos, Some(v))]),
        }
    } else {
        one_by_one!(obs, t, v, Check::EmptyClientId => access::empty_client_id(t, v));
    }
    one_by_one!(obs, t, v,
        Check::Qos0 => delivery::round_trip(t, v, QoS::AtMostOnce, caps),
        Check::Qos1 => delivery::round_trip(t, v, QoS::AtLeastOnce, caps),
        Check::Qos2 => delivery::round_trip(t, v, QoS::ExactlyOnce, caps),
    );
    obs.start(&[
        Check::Retained,
        Check::WildcardPlus,
        Check::WildcardHash,
        Check::Shared,
        Check::Will,
        Check::Sys,
    ]);
    let side_by_side = tokio::join!(
        bounded(t, Check::Retained, Some(v), delivery::retained(t, v, caps)),
        bounded(
            t,
            Check::WildcardPlus,
            Some(v),
            delivery::wildcard(t, v, false)
        ),
        bounded(
            t,
            Check::WildcardHash,
            Some(v),
            delivery::wildcard(t, v, true)
        ),
        bounded(t, Check::Shared, Some(v), delivery::shared(t, v)),
        bounded(t, Check::Will, Some(v), delivery::will(t, v)),
        bounded(t, Check::Sys, Some(v), delivery::sys(t, v)),
    );
    obs.done(&[
        side_by_side.0,
        side_by_side.1,
        side_by_side.2,
        side_by_side.3,
        side_by_side.4,
        side_by_side.5,
    ]);
    one_by_one!(obs, t, v,
        Check::TopicCharacters => limits::topic_characters(t, v),
        Check::TopicLength => limits::topic_length(t, v),
        Check::ClientIdLength => limits::client_id_length(t, v),
        Check::PayloadSize => payload::largest_payload(t, v, caps),
    );
}
