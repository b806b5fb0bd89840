//! A publisher: waits for the run to start, then sends on its open-loop schedule, within its
//! QoS 1/2 window and the run's end-to-end cap, until its share of `-L` is out or the run drains.

use super::client::{Ctx, Phase, next_ping, on_packet, serve};
use super::conn::Wire;
use super::message::{PubTemplate, now_nanos};
use super::pacing::{Pace, Schedule};
use super::plan::Role;
use super::stats::Cause;
use crate::protocol::{Packet, QoS};
use crate::session::Outbound;
use crate::topic::TopicName;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, sleep_until};

/// Most bytes a publisher queues before waiting for the socket.
const OUT_HIGH_WATER: usize = 64 * 1024;
/// How often a publisher held back by the end-to-end cap looks again.
const CAP_POLL: Duration = Duration::from_millis(1);

/// Counts a publisher out of [`Ctx::publishing`] exactly once: when it has sent everything, or
/// when it ends for any other reason.
struct Sending<'a> {
    counter: &'a AtomicU64,
    armed: bool,
}

impl Sending<'_> {
    fn finish(&mut self) {
        if std::mem::take(&mut self.armed) {
            self.counter.fetch_sub(1, Relaxed);
        }
    }
}

impl Drop for Sending<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One publisher's sending state.
struct Publisher<'a> {
    ctx: &'a Ctx,
    template: PubTemplate,
    schedule: Option<Schedule>,
    /// QoS 1/2 messages awaiting their acknowledgement, with the time each was due.
    window: Outbound<u64>,
    remaining: u64,
    /// Messages queued so far (the `%n` of the next is one more).
    seq: u64,
    owed: u64,
    sending: Sending<'a>,
}

impl Publisher<'_> {
    /// True if nothing but time (or the cap) stops the next message.
    fn may_send(&self, link: &Wire) -> bool {
        self.sending.armed
            && self.remaining > 0
            && link.pending_out() < OUT_HIGH_WATER
            && (self.ctx.plan.qos == QoS::AtMostOnce || self.window.has_room())
    }

    /// Queues every message that is due now.
    fn fill(&mut self, link: &mut Wire, now: Instant) {
        let qos0 = self.ctx.plan.qos == QoS::AtMostOnce;
        while self.may_send(link)
            && self.ctx.has_room()
            && self
                .schedule
                .as_ref()
                .is_none_or(|s| s.next_due() <= now.into_std())
        {
            // Latency counts from when the message was due, not from when a backed-up
            // publisher got round to it (no coordinated omission).
            let late = self.schedule.as_ref().map_or(Duration::ZERO, |s| {
                now.into_std().saturating_duration_since(s.next_due())
            });
            let due = now_nanos().saturating_sub(u64::try_from(late.as_nanos()).unwrap_or(0));
            let id = if qos0 {
                None
            } else {
                let qos = self.ctx.plan.qos;
                self.window
                    .start(qos, due, |_| false)
                    .ok()
                    .map(|id| id.get())
            };
            self.seq += 1;
            link.queue_raw(self.template.stamp(id, due, self.seq));
            self.ctx.stats.sent.fetch_add(1, Relaxed);
            self.ctx.expected.fetch_add(self.owed, Relaxed);
            self.remaining -= 1;
            if let Some(s) = self.schedule.as_mut() {
                s.advance();
            }
        }
    }

    /// Counts this publisher out once everything is written and acknowledged.
    fn check_done(&mut self, link: &Wire) {
        if self.remaining == 0 && self.window.is_empty() && link.pending_out() == 0 {
            self.sending.finish();
        }
    }
}

/// Runs publisher `index` on `link` until the run stops.
pub async fn publish(
    ctx: &Ctx,
    link: &mut Wire,
    index: u32,
    phase: &mut watch::Receiver<Phase>,
) -> Result<(), Cause> {
    let sending = Sending {
        counter: &ctx.publishing,
        armed: true,
    };
    serve(ctx, link, phase, |p| p != Phase::Connecting).await?;
    let Phase::Running(start) = *phase.borrow() else {
        return Ok(());
    };
    let plan = &ctx.plan;
    let cid = plan.client_id(Role::Pub, index);
    let topic = plan.topic.render(plan.number(index), &cid);
    let topic = TopicName::new(topic.as_str()).map_err(|_| Cause::Protocol)?;
    let template = PubTemplate::new(
        topic,
        plan.qos,
        &plan.body,
        plan.number(index),
        plan.version,
    )
    .map_err(|_| Cause::Protocol)?;
    let schedule = match plan.pace {
        Pace::Every(iv) => {
            let phase = Schedule::phase(iv, index, plan.publishers);
            Some(Schedule::new(start.into_std(), iv, phase))
        }
        Pace::Unpaced => None,
    };
    let mut p = Publisher {
        ctx,
        template,
        schedule,
        window: Outbound::new(plan.inflight.max(1)),
        remaining: plan.publisher_limit(index).unwrap_or(u64::MAX),
        seq: 0,
        owed: u64::from(ctx.fanout.get(index as usize).copied().unwrap_or(0)),
        sending,
    };
    run(&mut p, link, phase).await
}

async fn run(
    p: &mut Publisher<'_>,
    link: &mut Wire,
    phase: &mut watch::Receiver<Phase>,
) -> Result<(), Cause> {
    let keepalive = p.ctx.plan.keepalive;
    let mut ping_at = next_ping(keepalive);
    loop {
        let now = Instant::now();
        p.fill(link, now);
        link.try_flush()?;
        p.check_done(link);
        let ready = p.may_send(link);
        let capped = ready && !p.ctx.has_room();
        let wake = match &p.schedule {
            Some(s) if ready && !capped => Some(Instant::from_std(s.next_due())),
            _ => None,
        };
        tokio::select! {
            biased;
            r = phase.changed() => match (r, *phase.borrow_and_update()) {
                (Err(_), _) | (_, Phase::Stop) => return Ok(()),
                (_, Phase::Draining) => p.remaining = 0,
                _ => {}
            },
            r = link.stream.readable() => {
                r.map_err(|e| Cause::of_io(&e))?;
                link.try_fill()?;
                while let Some(packet) = link.decode()? {
                    on_packet(p.ctx, link, packet, Some(&mut p.window))?;
                }
            }
            r = link.stream.writable(), if link.pending_out() > 0 => {
                r.map_err(|e| Cause::of_io(&e))?;
            }
            _ = sleep_until(wake.unwrap_or(now)), if wake.is_some() => {}
            _ = tokio::task::yield_now(), if ready && !capped && p.schedule.is_none() => {}
            _ = sleep(CAP_POLL), if capped => {}
            _ = sleep_until(ping_at.unwrap_or(now)), if ping_at.is_some() => {
                link.queue(&Packet::PingReq)?;
                ping_at = next_ping(keepalive);
            }
        }
    }
}
