//! The client against a scripted broker on a loopback socket: behaviour that a real broker will
//! not show on demand (silence after PINGREQ, refusals, a dropped connection).

use super::*;
use crate::connection::Connection;
use crate::protocol::{Packet, PubResp};
use tokio::net::{TcpListener, TcpStream};

async fn fake_broker() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

async fn accept(l: &TcpListener, version: Version) -> (Connection<TcpStream>, Connect) {
    let (s, _) = l.accept().await.unwrap();
    let mut c = Connection::new(s, version);
    match c.read_packet().await.unwrap() {
        Some(Packet::Connect(connect)) => (c, *connect),
        other => panic!("expected CONNECT, got {other:?}"),
    }
}

async fn connack(c: &mut Connection<TcpStream>, reason: ReasonCode) {
    let ack = ConnAck {
        session_present: false,
        reason,
        properties: Props::default(),
    };
    c.write_packet(&Packet::ConnAck(ack)).unwrap();
    c.flush().await.unwrap();
}

#[tokio::test]
async fn no_pingresp_within_the_keepalive_is_an_error() {
    let (l, port) = fake_broker().await;
    let server = tokio::spawn(async move {
        let (mut c, connect) = accept(&l, Version::V311).await;
        assert_eq!(connect.keep_alive, 1);
        connack(&mut c, ReasonCode::Success).await;
        // Read the PINGREQ and stay silent.
        let p = c.read_packet().await.unwrap();
        assert_eq!(p, Some(Packet::PingReq));
        tokio::time::sleep(Duration::from_secs(3)).await;
    });
    let mut o = ClientOptions::new("127.0.0.1", port);
    o.keep_alive = 1;
    let (client, _) = Client::connect(o).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(4), client.recv()).await;
    assert!(matches!(r, Ok(Err(ClientError::KeepAlive))), "{r:?}");
    server.abort();
}

#[tokio::test]
async fn a_v5_refusal_carries_the_reason() {
    let (l, port) = fake_broker().await;
    tokio::spawn(async move {
        let (mut c, _) = accept(&l, Version::V5).await;
        connack(&mut c, ReasonCode::Banned).await;
    });
    let mut o = ClientOptions::new("127.0.0.1", port);
    o.version = Version::V5;
    match Client::connect(o).await {
        Err(ClientError::Refused { reason, .. }) => assert_eq!(reason, ReasonCode::Banned),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn pending_publications_fail_when_the_connection_drops() {
    let (l, port) = fake_broker().await;
    tokio::spawn(async move {
        let (mut c, _) = accept(&l, Version::V311).await;
        connack(&mut c, ReasonCode::Success).await;
        // Acknowledge the first publication only, then hang up.
        if let Ok(Some(Packet::Publish(p))) = c.read_packet().await {
            let id = p.packet_id.unwrap();
            c.write_packet(&Packet::PubAck(PubResp::new(id))).unwrap();
            c.flush().await.unwrap();
        }
        let _ = c.read_packet().await;
    });
    let (client, _) = Client::connect(ClientOptions::new("127.0.0.1", port))
        .await
        .unwrap();
    client
        .publish("a", "1", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let second = client
        .start_publish("a", "2", QoS::AtLeastOnce, false)
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(3), second.wait())
        .await
        .unwrap();
    assert!(matches!(r, Err(ClientError::ConnectionLost(_))), "{r:?}");
}

#[tokio::test]
async fn the_inflight_window_holds_back_publications() {
    let (l, port) = fake_broker().await;
    let server = tokio::spawn(async move {
        let (mut c, _) = accept(&l, Version::V311).await;
        connack(&mut c, ReasonCode::Success).await;
        // With a window of 2, only two PUBLISH packets come until one is acknowledged.
        let mut ids = Vec::new();
        for _ in 0..2 {
            match c.read_packet().await.unwrap() {
                Some(Packet::Publish(p)) => ids.push(p.packet_id.unwrap()),
                other => panic!("{other:?}"),
            }
        }
        let third = tokio::time::timeout(Duration::from_millis(300), c.read_packet()).await;
        assert!(third.is_err(), "a third PUBLISH came before any PUBACK");
        for id in ids {
            c.write_packet(&Packet::PubAck(PubResp::new(id))).unwrap();
        }
        c.flush().await.unwrap();
        match c.read_packet().await.unwrap() {
            Some(Packet::Publish(p)) => {
                c.write_packet(&Packet::PubAck(PubResp::new(p.packet_id.unwrap())))
                    .unwrap();
                c.flush().await.unwrap();
            }
            other => panic!("{other:?}"),
        }
        let _ = c.read_packet().await;
    });
    let mut o = ClientOptions::new("127.0.0.1", port);
    o.max_inflight = 2;
    let (client, _) = Client::connect(o).await.unwrap();
    let mut pending = Vec::new();
    for i in 0..3 {
        pending.push(
            client
                .start_publish("w", format!("{i}"), QoS::AtLeastOnce, false)
                .await
                .unwrap(),
        );
    }
    for p in pending {
        p.wait().await.unwrap();
    }
    client.disconnect().await.unwrap();
    server.await.unwrap();
}
