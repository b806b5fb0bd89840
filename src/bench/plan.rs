//! The checked plan of a run: everything `mq bench` needs, validated before any socket opens.

use super::message::{Body, PayloadTemplate};
use super::pacing::Pace;
use crate::cli::bench::{BenchArgs, Scenario};
use crate::protocol::{QoS, Version};
use crate::topic::{TopicFilter, TopicName};
use bytes::Bytes;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// File descriptors kept free for the runtime, stdio and the odd file.
pub const FD_RESERVE: u64 = 32;

/// Why a plan cannot run. Every variant is a usage error (exit status 1).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// The run would never end.
    #[error("every run must be bounded: give -d DURATION{0}")]
    Unbounded(&'static str),
    /// `-d 0`.
    #[error("-d must be greater than zero")]
    ZeroDuration,
    /// `-c 0` and friends.
    #[error("{0} must be at least 1")]
    ZeroCount(&'static str),
    /// More sockets than the process may open.
    #[error(
        "{clients} clients need {needed} file descriptors but the limit is {soft} (hard limit {hard}); raise it with `ulimit -n`"
    )]
    TooManyFiles {
        /// Clients requested.
        clients: u64,
        /// Descriptors they need.
        needed: u64,
        /// The soft limit after raising it.
        soft: u64,
        /// The hard limit.
        hard: u64,
    },
    /// A rendered topic or filter is not valid.
    #[error("invalid topic '{0}': {1}")]
    Topic(String, String),
    /// A bad numeric option.
    #[error("{0}")]
    Invalid(String),
    /// The TLS options do not make a configuration.
    #[error("{0}")]
    Tls(String),
    /// The password file could not be read.
    #[error("cannot read password file: {0}")]
    PwFile(String),
    /// The payload file could not be read, or makes too large a message.
    #[error("--payload-file: {0}")]
    PayloadFile(String),
    /// An output file could not be created.
    #[error("cannot create {0}")]
    Output(String),
}

/// A topic template: literal text with `%i` (client number) and `%c` (client id).
#[derive(Clone, Debug, PartialEq)]
pub struct Template(String);

impl Template {
    /// Wraps a template string.
    pub fn new(s: &str) -> Template {
        Template(s.to_string())
    }

    /// The topic for client number `n` with id `cid`.
    pub fn render(&self, n: u32, cid: &str) -> String {
        let mut out = String::with_capacity(self.0.len() + 8);
        let mut chars = self.0.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('i') => out.push_str(&n.to_string()),
                Some('c') => out.push_str(cid),
                Some('%') => out.push('%'),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

/// What one client does once connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Holds its connection and answers keepalive.
    Idle,
    /// Publishes.
    Pub,
    /// Subscribes and counts what arrives.
    Sub,
    /// Subscribes like `Sub` but reads its socket at a bounded rate, counted apart.
    Slow,
}

/// The checked run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario.
    pub scenario: Scenario,
    /// Broker host.
    pub host: String,
    /// Broker port.
    pub port: u16,
    /// User name.
    pub username: Option<String>,
    /// Password.
    pub password: Option<Bytes>,
    /// Protocol version.
    pub version: Version,
    /// Publishers.
    pub publishers: u32,
    /// Subscribers.
    pub subscribers: u32,
    /// Idle connections (`conn`).
    pub idle: u32,
    /// Slow subscribers (pubsub), beside `subscribers`.
    pub slow: u32,
    /// Bytes per second each slow subscriber reads.
    pub slow_read_rate: u64,
    /// Connections started per second; `None` is unlimited.
    pub conn_rate: Option<f64>,
    /// Topic template of publications.
    pub topic: Template,
    /// Filter template of subscriptions.
    pub sub_topic: Template,
    /// Payload size (of the first message, for a template).
    pub size: usize,
    /// What payloads are made of.
    pub body: Body,
    /// QoS.
    pub qos: QoS,
    /// Per-publisher pacing.
    pub pace: Pace,
    /// Total message limit.
    pub limit: Option<u64>,
    /// Run time after the connect phase.
    pub duration: Option<Duration>,
    /// Outstanding QoS 1/2 messages per publisher.
    pub inflight: u16,
    /// Keepalive seconds.
    pub keepalive: u16,
    /// Clean session / clean start.
    pub clean: bool,
    /// Client id prefix.
    pub prefix: String,
    /// Number of the first client.
    pub start_number: u32,
    /// Local addresses to bind, round robin.
    pub ifaddr: Vec<IpAddr>,
    /// Bound on TCP connect plus CONNACK (and SUBACK).
    pub connect_timeout: Duration,
    /// TLS configuration and the name the server certificate must match, if TLS is on.
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// The WebSocket upgrade each connection makes (`--ws`).
    pub websocket: Option<super::ws::WsRequest>,
}

impl Plan {
    /// Checks `args` into a plan; `fd_limit` is `(soft, hard)` after raising the soft limit.
    pub fn from_args(args: &BenchArgs, fd_limit: (u64, u64)) -> Result<Plan, PlanError> {
        let (publishers, subscribers, idle) = role_counts(args)?;
        check_bounded(args)?;
        let slow = slow_count(args)?;
        let clients =
            u64::from(publishers) + u64::from(subscribers) + u64::from(idle) + u64::from(slow);
        let needed = clients + FD_RESERVE;
        if needed > fd_limit.0 {
            return Err(PlanError::TooManyFiles {
                clients,
                needed,
                soft: fd_limit.0,
                hard: fd_limit.1,
            });
        }
        let pace = pace_of(args, publishers)?;
        if args.inflight == 0 {
            return Err(PlanError::ZeroCount("--inflight"));
        }
        if !(args.rate.is_finite() && args.rate >= 0.0) {
            return Err(PlanError::Invalid("--rate must be 0 or more".into()));
        }
        let password = read_password(args)?;
        let body = body_of(args)?;
        let tls = tls_of(args)?;
        let plan = Plan {
            scenario: args.scenario,
            host: args.server.host.clone(),
            port: args.server.port_or_default(tls.is_some()),
            username: args.server.username.clone(),
            password,
            version: args.version.protocol_version,
            publishers,
            subscribers,
            idle,
            slow,
            slow_read_rate: args.slow_read_rate,
            conn_rate: (args.rate > 0.0).then_some(args.rate),
            topic: Template::new(&args.topic),
            sub_topic: Template::new(args.sub_topic.as_deref().unwrap_or(&args.topic)),
            size: body.payload(args.start_number, 1).len(),
            body,
            qos: args.qos,
            pace,
            limit: args.limit,
            duration: args.duration,
            inflight: args.inflight,
            keepalive: args.keepalive,
            clean: !args.no_clean || args.clean,
            prefix: args
                .prefix
                .clone()
                .unwrap_or_else(|| format!("mqbench-{}-", std::process::id())),
            start_number: args.start_number,
            ifaddr: args.ifaddr.clone(),
            connect_timeout: args.connect_timeout,
            websocket: args
                .server
                .websocket_path()
                .map(|path| super::ws::WsRequest {
                    host: format!(
                        "{}:{}",
                        args.server.host,
                        args.server.port_or_default(tls.is_some())
                    ),
                    path,
                }),
            tls,
        };
        plan.check_topics()?;
        if plan.slow > 0 && (plan.tls.is_some() || plan.websocket.is_some()) {
            return Err(PlanError::Invalid(
                "--slow-subscribers works over plain TCP only".into(),
            ));
        }
        Ok(plan)
    }

    /// Every client in start order: subscribers first, so they are ready before anyone publishes.
    pub fn clients(&self) -> impl Iterator<Item = (Role, u32)> + '_ {
        let subs = (0..self.subscribers).map(|i| (Role::Sub, i));
        let slow = (0..self.slow).map(|i| (Role::Slow, i));
        let pubs = (0..self.publishers).map(|i| (Role::Pub, i));
        let idle = (0..self.idle).map(|i| (Role::Idle, i));
        subs.chain(slow).chain(pubs).chain(idle)
    }

    /// Total number of clients.
    pub fn client_count(&self) -> u64 {
        u64::from(self.publishers)
            + u64::from(self.subscribers)
            + u64::from(self.idle)
            + u64::from(self.slow)
    }

    /// The client number (for `%i`) of the `index`th client of a role.
    pub fn number(&self, index: u32) -> u32 {
        self.start_number.wrapping_add(index)
    }

    /// The client id of the `index`th client of `role`.
    pub fn client_id(&self, role: Role, index: u32) -> String {
        let tag = match role {
            Role::Idle => "c",
            Role::Pub => "p",
            Role::Sub => "s",
            Role::Slow => "w",
        };
        format!("{}{tag}{}", self.prefix, self.number(index))
    }

    /// How many messages publisher `index` sends under `-L` (the limit shared out evenly).
    pub fn publisher_limit(&self, index: u32) -> Option<u64> {
        let limit = self.limit?;
        let n = u64::from(self.publishers.max(1));
        let i = u64::from(index);
        Some(limit / n + u64::from(i < limit % n))
    }

    /// The target publish rate over all publishers, messages per second (`None`: unpaced).
    pub fn target_rate(&self) -> Option<f64> {
        match self.pace {
            Pace::Every(d) if self.publishers > 0 => {
                Some(f64::from(self.publishers) / d.as_secs_f64())
            }
            _ => None,
        }
    }

    /// How many local subscribers receive each publisher's messages (pubsub), so that the
    /// generator knows how many deliveries it is owed. Above a few million topic pairs, a sample
    /// of publishers stands for all.
    pub fn fanout(&self) -> Vec<u32> {
        const EXACT_PAIRS: u64 = 4_000_000;
        const SAMPLE: u32 = 64;
        if self.publishers == 0 || self.subscribers == 0 {
            return vec![0; self.publishers as usize];
        }
        let filters: Vec<String> = (0..self.subscribers)
            .map(|j| {
                self.sub_topic
                    .render(self.number(j), &self.client_id(Role::Sub, j))
            })
            .collect();
        let count = |i: u32| {
            let topic = self
                .topic
                .render(self.number(i), &self.client_id(Role::Pub, i));
            let n = filters
                .iter()
                .filter(|f| crate::topic::matches(strip_share(f), &topic))
                .count();
            u32::try_from(n).unwrap_or(u32::MAX)
        };
        if u64::from(self.publishers) * u64::from(self.subscribers) <= EXACT_PAIRS {
            return (0..self.publishers).map(count).collect();
        }
        let step = (self.publishers / SAMPLE).max(1);
        let sample: Vec<u32> = (0..self.publishers)
            .step_by(step as usize)
            .map(count)
            .collect();
        let avg = sample.iter().map(|&n| u64::from(n)).sum::<u64>() / sample.len().max(1) as u64;
        vec![u32::try_from(avg).unwrap_or(u32::MAX); self.publishers as usize]
    }

    fn check_topics(&self) -> Result<(), PlanError> {
        let sample = self.client_id(Role::Pub, 0);
        if self.publishers > 0 {
            let t = self.topic.render(self.number(0), &sample);
            TopicName::new(t.as_str()).map_err(|e| PlanError::Topic(t, e.to_string()))?;
        }
        if self.subscribers > 0 {
            let f = self.sub_topic.render(self.number(0), &sample);
            TopicFilter::new(f.as_str()).map_err(|e| PlanError::Topic(f, e.to_string()))?;
        }
        Ok(())
    }
}

/// The filter of a `$share/group/filter` subscription.
fn strip_share(f: &str) -> &str {
    f.strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(f, |(_, filter)| filter)
}

/// Publishers, subscribers and idle clients of the scenario.
fn role_counts(args: &BenchArgs) -> Result<(u32, u32, u32), PlanError> {
    let counts = match args.scenario {
        Scenario::Conn => (0, 0, args.count),
        Scenario::Pub => (args.count, 0, 0),
        Scenario::Sub => (0, args.count, 0),
        Scenario::Pubsub => (args.count, args.subscribers.unwrap_or(args.count), 0),
    };
    if args.count == 0 {
        return Err(PlanError::ZeroCount("-c"));
    }
    if args.scenario == Scenario::Pubsub && counts.1 == 0 {
        return Err(PlanError::ZeroCount("--subscribers"));
    }
    Ok(counts)
}

/// Slow subscribers: pubsub only (and plain TCP: the slow reader paces raw socket reads).
fn slow_count(args: &BenchArgs) -> Result<u32, PlanError> {
    let n = args.slow_subscribers;
    if n == 0 {
        return Ok(0);
    }
    if args.scenario != Scenario::Pubsub {
        return Err(PlanError::Invalid(
            "--slow-subscribers is for the pubsub scenario".into(),
        ));
    }
    if args.slow_read_rate == 0 {
        return Err(PlanError::ZeroCount("--slow-read-rate"));
    }
    Ok(n)
}

fn check_bounded(args: &BenchArgs) -> Result<(), PlanError> {
    if args.duration == Some(Duration::ZERO) {
        return Err(PlanError::ZeroDuration);
    }
    let bounded = match args.scenario {
        Scenario::Conn => args.duration.is_some(),
        _ => args.duration.is_some() || args.limit.is_some(),
    };
    if bounded {
        Ok(())
    } else if args.scenario == Scenario::Conn {
        Err(PlanError::Unbounded(""))
    } else {
        Err(PlanError::Unbounded(" or -L LIMIT"))
    }
}

fn pace_of(args: &BenchArgs, publishers: u32) -> Result<Pace, PlanError> {
    match args.msg_rate {
        Some(r) if !(r.is_finite() && r > 0.0) => Err(PlanError::Invalid(
            "--msg-rate must be greater than zero".into(),
        )),
        Some(r) => Ok(Pace::from_total_rate(r, publishers)),
        None if args.interval.is_zero() => Ok(Pace::Unpaced),
        None => Ok(Pace::Every(args.interval)),
    }
}

/// The TLS configuration and the name the certificate must match, when TLS is asked for.
fn tls_of(args: &BenchArgs) -> Result<Option<(Arc<ClientConfig>, ServerName<'static>)>, PlanError> {
    let Some(config) = super::tls::client_config(&args.tls).map_err(PlanError::Tls)? else {
        return Ok(None);
    };
    let name = super::tls::server_name(&args.server.host).map_err(PlanError::Tls)?;
    Ok(Some((config, name)))
}

/// The payload: sized, or a template from -m or --payload-file.
fn body_of(args: &BenchArgs) -> Result<Body, PlanError> {
    let text = match (&args.message, &args.payload_file) {
        (Some(m), _) => m.as_bytes().to_vec(),
        (None, Some(path)) => std::fs::read(path)
            .map_err(|e| PlanError::PayloadFile(format!("{}: {e}", path.display())))?,
        (None, None) => return Ok(Body::Sized(args.size)),
    };
    // Room for the topic and the stamp; the exact limit is the broker's.
    if text.len() > crate::protocol::MAX_REMAINING_LENGTH as usize - 65_536 {
        return Err(PlanError::PayloadFile(format!(
            "{} bytes do not fit in an MQTT message",
            text.len()
        )));
    }
    Ok(Body::Template(PayloadTemplate::parse(&text)))
}

fn read_password(args: &BenchArgs) -> Result<Option<Bytes>, PlanError> {
    if let Some(path) = &args.server.pw_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| PlanError::PwFile(format!("{}: {e}", path.display())))?;
        let line = text.lines().next().unwrap_or("");
        return Ok(Some(Bytes::copy_from_slice(line.as_bytes())));
    }
    Ok(args
        .server
        .password
        .as_ref()
        .map(|p| Bytes::copy_from_slice(p.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn args(line: &str) -> BenchArgs {
        let argv = std::iter::once("mq").chain(line.split_whitespace());
        match Cli::try_parse_from(argv).map(|c| c.command) {
            Ok(Command::Bench(a)) => *a,
            other => panic!("not a bench command line: {other:?}"),
        }
    }

    fn plan(line: &str) -> Result<Plan, PlanError> {
        Plan::from_args(&args(line), (20_000, 20_000))
    }

    #[test]
    fn template_substitutes_number_and_id() {
        let t = Template::new("a/%i/%c/100%%/%x");
        assert_eq!(t.render(7, "cid"), "a/7/cid/100%/%x");
    }

    #[test]
    fn unbounded_runs_are_refused() {
        assert_eq!(
            plan("bench pub -c 5").unwrap_err(),
            PlanError::Unbounded(" or -L LIMIT")
        );
        assert_eq!(
            plan("bench conn -c 5 -L 10").unwrap_err(),
            PlanError::Unbounded("")
        );
        assert_eq!(plan("bench sub -d 0").unwrap_err(), PlanError::ZeroDuration);
        assert!(plan("bench pub -L 10").is_ok());
    }

    #[test]
    fn more_clients_than_files_are_refused() {
        let err = Plan::from_args(&args("bench conn -c 1000 -d 1"), (1024, 4096)).unwrap_err();
        assert!(
            matches!(err, PlanError::TooManyFiles { needed: 1032, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("ulimit -n"));
        let p = plan("bench pubsub -c 10 --subscribers 3 -d 1").unwrap();
        assert_eq!(p.client_count(), 13);
    }

    #[test]
    fn limit_is_shared_out_evenly() {
        let p = plan("bench pub -c 3 -L 10").unwrap();
        let shares: Vec<_> = (0..3).map(|i| p.publisher_limit(i).unwrap()).collect();
        assert_eq!(shares, vec![4, 3, 3]);
    }

    #[test]
    fn msg_rate_sets_per_publisher_interval() {
        let p = plan("bench pub -c 10 --msg-rate 1000 -d 1").unwrap();
        assert_eq!(p.pace, Pace::Every(Duration::from_millis(10)));
        assert!((p.target_rate().unwrap() - 1000.0).abs() < 1e-6);
        assert_eq!(plan("bench pub -I 0 -d 1").unwrap().pace, Pace::Unpaced);
    }

    #[test]
    fn fanout_counts_matching_subscribers() {
        let p = plan("bench pubsub -c 3 -d 1").unwrap();
        assert_eq!(p.fanout(), vec![1, 1, 1], "point to point");
        let p = plan("bench pubsub -c 3 --subscribers 2 --sub-topic bench/# -d 1").unwrap();
        assert_eq!(
            p.fanout(),
            vec![2, 2, 2],
            "fan-in to two wildcard subscribers"
        );
        let p = plan("bench pubsub -c 1 --subscribers 50 -t all -d 1").unwrap();
        assert_eq!(p.fanout(), vec![50], "fan-out");
        let p =
            plan("bench pubsub -c 2 --subscribers 1 --sub-topic $share/g/bench/+ -d 1").unwrap();
        assert_eq!(p.fanout(), vec![1, 1]);
        assert_eq!(plan("bench pub -c 2 -d 1").unwrap().fanout(), vec![0, 0]);
    }

    #[test]
    fn payloads_come_from_size_or_a_template() {
        let p = plan("bench pub -d 1 -s 100").unwrap();
        assert_eq!((p.body.clone(), p.size), (Body::Sized(100), 100));
        let p = plan("bench pub -d 1 -m a%ib --start-number 40").unwrap();
        assert!(matches!(p.body, Body::Template(_)));
        assert_eq!(p.size, super::super::message::STAMP_LEN + "a40b".len());
        let err = plan("bench pub -d 1 --payload-file /nonexistent/payload").unwrap_err();
        assert!(matches!(err, PlanError::PayloadFile(_)), "{err:?}");
        for line in [
            "-m x -s 10",
            "-m x --payload-file f",
            "--payload-file f -s 10",
        ] {
            let argv = format!("mq bench pub -d 1 {line}");
            assert!(
                Cli::try_parse_from(argv.split_whitespace()).is_err(),
                "{line} is refused"
            );
        }
    }

    #[test]
    fn ids_and_topics_follow_prefix_and_start_number() {
        let p = plan("bench pubsub -c 2 -d 1 --prefix x- --start-number 10 -t t/%c/%i").unwrap();
        assert_eq!(p.client_id(Role::Pub, 1), "x-p11");
        let cid = p.client_id(Role::Sub, 0);
        assert_eq!(p.sub_topic.render(p.number(0), &cid), "t/x-s10/10");
        assert!(matches!(
            plan("bench pub -d 1 -t a/#"),
            Err(PlanError::Topic(..))
        ));
    }
}
