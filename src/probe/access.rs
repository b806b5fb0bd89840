//! Who gets in: the protocol versions the broker accepts, whether it lets a client in without
//! credentials, and whether a zero-length client id is accepted before MQTT 5.0 (in 5.0 that is
//! part of the CONNACK check, where the broker must assign one).

use super::outcome::{Check, Outcome, Status};
use super::target::{Target, why};
use crate::client::{Client, ClientError, ClientOptions};
use crate::protocol::Version;
use serde_json::json;

/// The protocol versions tried, oldest first.
pub const VERSIONS: [Version; 3] = [Version::V31, Version::V311, Version::V5];

/// What connecting with each version gave.
#[derive(Debug)]
pub struct Versions {
    /// One outcome per version.
    pub outcomes: Vec<Outcome>,
    /// The versions accepted.
    pub accepted: Vec<Version>,
    /// The first refusal or failure, for when nothing was accepted.
    pub failure: Option<ClientError>,
}

/// Connects and disconnects once; `Err` with the reason when that did not work.
pub async fn try_connect(opts: ClientOptions) -> Result<(), ClientError> {
    let (client, _) = Client::connect(opts).await?;
    let _ = client.disconnect().await;
    Ok(())
}

/// Tries each version, side by side (a broker that never answers costs one connect timeout,
/// not three). A failure below MQTT (no TCP connection, a failed TLS handshake) is returned:
/// no other check could run either.
pub async fn versions(t: &Target) -> Result<Versions, ClientError> {
    let mut found = Versions {
        outcomes: Vec::new(),
        accepted: Vec::new(),
        failure: None,
    };
    let [a, b, c] = VERSIONS.map(|v| try_connect(t.options(v)));
    let (a, b, c) = tokio::join!(a, b, c);
    for (v, result) in VERSIONS.into_iter().zip([a, b, c]) {
        if let Err(e @ ClientError::Transport(_)) = result {
            return Err(e);
        }
        let (status, figure) = match &result {
            Ok(()) => (Status::Ok, "accepted".to_string()),
            Err(ClientError::ConnectionLost(_) | ClientError::Protocol(_)) => (
                Status::No,
                "connection closed without a CONNACK".to_string(),
            ),
            Err(e) => (Status::No, why(e)),
        };
        match result {
            Ok(()) => found.accepted.push(v),
            Err(e) => {
                found.failure.get_or_insert(e);
            }
        }
        found.outcomes.push(Outcome::new(
            Check::Protocol,
            Some(v),
            status,
            figure,
            json!(status == Status::Ok),
        ));
    }
    Ok(found)
}

/// Whether a client gets in without user name and password. With credentials on the command
/// line, one connection without them decides; without, the version check already did.
pub async fn anonymous(t: &Target, found: &Versions) -> Outcome {
    let outcome = |status, figure: String| {
        Outcome::new(
            Check::Anonymous,
            None,
            status,
            figure,
            json!(status == Status::Ok),
        )
    };
    if !t.has_credentials() {
        return match (&found.accepted.first(), &found.failure) {
            (Some(_), _) => outcome(Status::Ok, "allowed".into()),
            (None, Some(e)) => outcome(Status::No, why(e)),
            (None, None) => outcome(Status::No, "refused".into()),
        };
    }
    let version = found.accepted.last().copied().unwrap_or(Version::V311);
    match try_connect(t.anonymous(version)).await {
        Ok(()) => outcome(Status::Ok, "allowed".into()),
        Err(e) => outcome(Status::No, why(&e)),
    }
}

/// Whether a zero-length client id with a clean session is accepted (3.1.1: the server may
/// accept it and assign an id internally, [MQTT-3.1.3-6]).
pub async fn empty_client_id(t: &Target, version: Version) -> Outcome {
    let mut opts = t.options(version);
    opts.client_id = String::new();
    let (status, figure) = match try_connect(opts).await {
        Ok(()) => (Status::Ok, "accepted".to_string()),
        Err(e) => (Status::No, why(&e)),
    };
    Outcome::new(
        Check::EmptyClientId,
        Some(version),
        status,
        figure,
        json!(status == Status::Ok),
    )
}
