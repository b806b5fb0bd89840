//! Codec throughput: decode and encode of QoS 0 PUBLISH (64 B and 16 KiB payloads) and CONNECT.
//!
//! Decoding runs over one buffer holding many packets, as a connection's receive buffer does.

use bytes::{Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mq::protocol::{Connect, Packet, Properties, Publish, QoS, Version, Will, decode, encode};
use mq::topic::TopicName;
use std::hint::black_box;

fn publish(payload: usize) -> Packet {
    Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: TopicName::new("sensors/building-1/floor-2/temperature").unwrap(),
        packet_id: None,
        properties: Default::default(),
        payload: Bytes::from(vec![0x5A; payload]),
    })
}

fn connect(version: Version) -> Packet {
    let properties = if version.is_v5() {
        Properties {
            session_expiry_interval: Some(3600),
            receive_maximum: Some(100),
            user_properties: vec![("app".into(), "bench".into())],
            ..Properties::default()
        }
        .into()
    } else {
        Default::default()
    };
    Packet::Connect(Box::new(Connect {
        version,
        client_id: "bench-client-0001".into(),
        clean_start: true,
        keep_alive: 60,
        username: Some("user".into()),
        password: Some(Bytes::from_static(b"secret")),
        will: Some(Will {
            topic: TopicName::new("clients/bench-client-0001/status").unwrap(),
            payload: Bytes::from_static(b"offline"),
            qos: QoS::AtLeastOnce,
            retain: true,
            properties: Default::default(),
        }),
        properties,
        bridge: false,
    }))
}

/// `count` encodings of `packet` back to back.
fn stream(packet: &Packet, version: Version, count: usize) -> BytesMut {
    let mut buf = BytesMut::new();
    for _ in 0..count {
        encode(packet, version, &mut buf).unwrap();
    }
    buf
}

fn bench_decode(c: &mut Criterion, name: &str, packet: &Packet, version: Version, count: usize) {
    let input = stream(packet, version, count);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(count as u64));
    g.bench_function(name, |b| {
        // By reference, so that freeing the drained buffer is not timed; one fresh copy per
        // iteration, made just before it is decoded, so the bytes are in cache as they are
        // after a socket read (a batch of copies made in advance would measure DRAM instead).
        b.iter_batched_ref(
            || input.clone(),
            |buf| {
                while let Some(p) = decode(buf, version, u32::MAX).unwrap() {
                    // Look at the packet as a consumer would, without copying it around.
                    black_box(&p);
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_encode(c: &mut Criterion, name: &str, packet: &Packet, version: Version, count: usize) {
    let mut buf = BytesMut::with_capacity(stream(packet, version, count).len());
    let mut g = c.benchmark_group("encode");
    g.throughput(Throughput::Elements(count as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            buf.clear();
            for _ in 0..count {
                encode(black_box(packet), version, &mut buf).unwrap();
            }
            black_box(&buf);
        })
    });
    g.finish();
}

fn codec(c: &mut Criterion) {
    let small = publish(64);
    let large = publish(16 * 1024);
    bench_decode(c, "publish_qos0_64B_v311", &small, Version::V311, 1000);
    bench_decode(c, "publish_qos0_64B_v5", &small, Version::V5, 1000);
    bench_decode(c, "publish_qos0_16KiB_v311", &large, Version::V311, 64);
    bench_decode(
        c,
        "connect_v311",
        &connect(Version::V311),
        Version::V311,
        100,
    );
    bench_decode(c, "connect_v5", &connect(Version::V5), Version::V5, 100);
    bench_encode(c, "publish_qos0_64B_v311", &small, Version::V311, 1000);
    bench_encode(c, "publish_qos0_64B_v5", &small, Version::V5, 1000);
    bench_encode(c, "publish_qos0_16KiB_v311", &large, Version::V311, 64);
    bench_encode(
        c,
        "connect_v311",
        &connect(Version::V311),
        Version::V311,
        100,
    );
    bench_encode(c, "connect_v5", &connect(Version::V5), Version::V5, 100);
}

criterion_group!(benches, codec);
criterion_main!(benches);
