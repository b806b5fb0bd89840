//! A subscriber that reads its socket at a bounded rate (`--slow-subscribers`): a dashboard
//! over a slow link, or a script that cannot keep up. What it receives is counted apart from
//! the other subscribers and owed nothing, so it never holds the publishers back: the run
//! shows whether the broker lets it slow the others down, and how much it still gets.

use super::client::{Ctx, Phase, next_ping};
use super::conn::Wire;
use super::stats::Cause;
use crate::protocol::{Packet, PubResp, QoS};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// How often the reader takes its share of bytes.
const TICK: Duration = Duration::from_millis(10);

/// Reads at `plan.slow_read_rate` bytes per second until the run stops, counting
/// publications and acknowledging QoS 1/2 ones.
pub async fn serve_slow(
    ctx: &Ctx,
    link: &mut Wire,
    phase: &mut watch::Receiver<Phase>,
) -> Result<(), Cause> {
    let rate = ctx.plan.slow_read_rate as f64;
    // A reader that fell behind (a late tick) catches up by at most a tenth of a second.
    let burst = (rate / 10.0).max(1024.0);
    let mut budget = 0.0f64;
    let mut last = Instant::now();
    let mut ping_at = next_ping(ctx.plan.keepalive);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            r = phase.changed() => {
                if r.is_err() || *phase.borrow_and_update() == Phase::Stop {
                    return Ok(());
                }
                continue;
            }
        }
        let now = Instant::now();
        budget = (budget + rate * (now - last).as_secs_f64()).min(burst);
        last = now;
        let n = link.try_fill_at_most(budget as usize)?;
        budget -= n as f64;
        ctx.stats.slow_bytes.fetch_add(n as u64, Relaxed);
        while let Some(p) = link.decode()? {
            on_packet(ctx, link, p)?;
        }
        if ping_at.is_some_and(|at| at <= now) {
            link.queue(&Packet::PingReq)?;
            ping_at = next_ping(ctx.plan.keepalive);
        }
        link.try_flush()?;
    }
}

fn on_packet(ctx: &Ctx, link: &mut Wire, packet: Packet) -> Result<(), Cause> {
    match packet {
        Packet::Publish(p) => {
            ctx.stats.slow_received.fetch_add(1, Relaxed);
            match (p.qos, p.packet_id) {
                (QoS::AtLeastOnce, Some(id)) => link.queue(&Packet::PubAck(PubResp::new(id)))?,
                (QoS::ExactlyOnce, Some(id)) => link.queue(&Packet::PubRec(PubResp::new(id)))?,
                _ => {}
            }
        }
        Packet::PubRel(r) => link.queue(&Packet::PubComp(PubResp::new(r.packet_id)))?,
        Packet::Disconnect(d) => return Err(Cause::Disconnected(d.reason.as_u8())),
        _ => {}
    }
    Ok(())
}
