//! Router benchmarks: trie matching and fan-out of one PUBLISH to many sessions.
//!
//! `cargo bench --bench router`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mq::broker::config::LogConfig;
use mq::broker::log::Log;
use mq::broker::router::{Router, Settings};
use mq::broker::security::AllowAll;
use mq::broker::subscriptions::SubscriptionTree;
use mq::protocol::{Props, QoS, SubscriptionOptions};
use mq::session::{Limits, Message};
use mq::topic::{TopicFilter, TopicName};
use std::hint::black_box;
use std::sync::Arc;

fn tree_with(n: u32) -> SubscriptionTree<u32> {
    let mut t = SubscriptionTree::new();
    for i in 0..n {
        let f = match i % 4 {
            0 => format!("sensors/{}/temp", i),
            1 => format!("sensors/+/{}", i),
            2 => format!("site/{}/#", i % 100),
            _ => format!("devices/{}/state", i),
        };
        t.subscribe(
            &TopicFilter::new(f).unwrap(),
            i,
            SubscriptionOptions::default(),
        );
    }
    t.subscribe(
        &TopicFilter::new("#").unwrap(),
        n,
        SubscriptionOptions::default(),
    );
    t
}

fn matching(c: &mut Criterion) {
    let mut g = c.benchmark_group("trie_match");
    for n in [1_000u32, 100_000] {
        let t = tree_with(n);
        let mut out = Vec::new();
        g.bench_with_input(BenchmarkId::new("subscriptions", n), &n, |b, _| {
            b.iter(|| {
                out.clear();
                t.matches(black_box("sensors/42/temp"), &mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

fn fan_out(c: &mut Criterion) {
    let mut g = c.benchmark_group("fan_out");
    for subs in [1usize, 1_000] {
        let settings = Settings {
            limits: Limits {
                max_queued: 0,
                ..Limits::default()
            },
            log: Log(LogConfig::default()),
            upgrade_outgoing_qos: false,
            check_retain_source: false,
        };
        let router = Router::new(settings, Arc::new(AllowAll), None);
        let filter = TopicFilter::new("bench/+").unwrap();
        let cells: Vec<_> = (0..subs)
            .map(|i| {
                let a = router.connect(&format!("c{i}"), true, false, None);
                a.cell.lock().session.connect(&mut Vec::new());
                router.subscribe(&a.cell, &filter, SubscriptionOptions::default(), 0);
                a.cell
            })
            .collect();
        let msg = Arc::new(Message::new(
            TopicName::new("bench/x").unwrap(),
            vec![0u8; 64].into(),
            QoS::AtMostOnce,
            false,
            Props::default(),
        ));
        let mut out = Vec::new();
        g.throughput(Throughput::Elements(subs as u64));
        g.bench_with_input(
            BenchmarkId::new("qos0_64B_subscribers", subs),
            &subs,
            |b, _| {
                b.iter(|| {
                    let _ = router.publish(msg.clone(), None);
                    // Each link would drain its queue; do it here so queues stay small.
                    for cell in &cells {
                        cell.lock().session.fill(&mut out);
                    }
                    out.clear();
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, matching, fan_out);
criterion_main!(benches);
