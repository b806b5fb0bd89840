//! `mq sub`: mosquitto_sub. Prints every message as it arrives (stdout flushed whenever no
//! further message is already waiting, so a pipe sees each one at once), with `-C`, `-W`, `-R`,
//! `-T`, `--retained-only`, `--remove-retained`, `-E` and `-U` as mosquitto has them.

use super::{Error, Tool};
use crate::cli::connect::{self, ConnectPlan, Usage};
use crate::cli::properties::{self, PropertyArgs};
use crate::cli::subscribe::SubArgs;
use crate::client::{Client, ClientError};
use crate::format::printer::Printer;
use crate::protocol::{
    Disconnect, Props, Publish, QoS, ReasonCode, RetainHandling, SubAck, Subscription,
    SubscriptionOptions,
};
use crate::topic::TopicFilter;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The checked command.
#[derive(Debug)]
struct Plan {
    conn: ConnectPlan,
    subscriptions: Vec<Subscription>,
    filter_out: Vec<TopicFilter>,
    unsubscribe: Vec<TopicFilter>,
    printer: Printer,
    count: Option<u64>,
    timeout: Option<Duration>,
    no_retained: bool,
    retained_only: bool,
    remove_retained: bool,
    exit_after_sub: bool,
    /// `--random-filter`, as a fraction.
    sample: Option<f64>,
    props: PropertyArgs,
    /// Stopped by SIGINT/SIGTERM.
    interrupted: bool,
}

fn filter(s: &str) -> Result<TopicFilter, Usage> {
    TopicFilter::new(s).map_err(|_| {
        Usage(format!(
            "Invalid subscription topic '{s}', are all '+' and '#' wildcards correct?"
        ))
    })
}

/// One subscription per `-t` (and the `-L` topic), all with the same options.
fn subscriptions(a: &SubArgs, conn: &ConnectPlan, v5: bool) -> Result<Vec<Subscription>, Usage> {
    let mut topics: Vec<&str> = a.topic.iter().map(String::as_str).collect();
    if let Some(t) = &conn.url_topic {
        topics.push(t);
    }
    if topics.is_empty() {
        return Err(Usage("You must specify a topic to subscribe to.".into()));
    }
    let options = SubscriptionOptions {
        qos: a.qos,
        no_local: false,
        retain_as_published: a.retain_as_published,
        retain_handling: if a.no_retained && v5 {
            RetainHandling::DoNotSend
        } else {
            RetainHandling::SendOnSubscribe
        },
    };
    let mut subscriptions = Vec::new();
    for t in topics {
        subscriptions.push(Subscription {
            filter: filter(t)?,
            options,
        });
    }
    Ok(subscriptions)
}

fn plan(a: &SubArgs) -> Result<Plan, Usage> {
    let props = properties::parse(&a.client.property)?;
    let conn = connect::plan(
        &a.server,
        a.version.protocol_version,
        &a.client,
        &a.tls,
        &a.will,
        &props,
        false,
    )?;
    if a.no_retained && a.retained_only {
        return Err(Usage(
            "Combining '-R' and '--retained-only' makes no sense.".into(),
        ));
    }
    let count = match a.count {
        Some(c) if c < 1 => return Err(Usage(format!("Invalid message count \"{c}\"."))),
        c => c.map(|c| c as u64),
    };
    let timeout = match a.timeout {
        Some(w) if !(1..=3_153_600_000).contains(&w) => {
            return Err(Usage(format!("Invalid timeout \"{w}\".")));
        }
        w => w.map(|w| Duration::from_secs(w as u64)),
    };
    let sample = match a.random_filter {
        Some(p) if !(0.1..=100.0).contains(&p) => {
            return Err(Usage(
                "Invalid --random-filter value, must be between 0.1 and 100.0.".into(),
            ));
        }
        p => p.filter(|p| *p < 100.0).map(|p| p / 100.0),
    };
    let v5 = conn.options.version.is_v5();
    if a.retain_as_published && !v5 {
        return Err(Usage(
            "--retain-as-published is only available with MQTT v5.".into(),
        ));
    }
    let subscriptions = subscriptions(a, &conn, v5)?;
    let filter_out = a
        .filter_out
        .iter()
        .map(|t| filter(t))
        .collect::<Result<_, _>>()?;
    let unsubscribe = a
        .unsubscribe
        .iter()
        .map(|t| filter(t))
        .collect::<Result<_, _>>()?;
    let printer = Printer::new(&a.output, a.client.quiet).map_err(|e| Usage(e.to_string()))?;
    Ok(Plan {
        conn,
        subscriptions,
        filter_out,
        unsubscribe,
        printer,
        count,
        timeout,
        no_retained: a.no_retained,
        retained_only: a.retained_only,
        remove_retained: a.remove_retained,
        exit_after_sub: a.exit_after_sub,
        sample,
        props,
        interrupted: false,
    })
}

/// Runs `mq sub`. Like mosquitto_sub, a connection lost after the first CONNACK is
/// re-established (every second, until `-W` runs out) and the subscriptions made again.
pub async fn run(args: SubArgs) -> Result<(), Error> {
    let mut plan = plan(&args).map_err(Error::usage(Tool::Sub))?;
    let deadline = plan.timeout.map(|t| Instant::now() + t);
    let quiet = plan.conn.quiet;
    if let Some(c) = plan.count
        && c < 20
        && plan.conn.options.version.is_v5()
    {
        // Ask the broker not to send more than we will print (as mosquitto_sub does).
        plan.conn.options.properties.receive_maximum = Some(c as u16);
    }
    let (client, _) = Client::connect(plan.conn.options.clone())
        .await
        .map_err(|e| Error::Connect(e).quiet_if(quiet))?;
    let mut client = Arc::new(client);
    let mut printed = 0u64;
    loop {
        match serve(&client, &mut plan, deadline, &mut printed).await {
            Ok(result) => {
                // mosquitto_sub ends a v5 session on a signal with "disconnect with will".
                let reason = if plan.interrupted && plan.conn.options.version.is_v5() {
                    ReasonCode::DisconnectWithWillMessage
                } else {
                    ReasonCode::NormalDisconnection
                };
                let _ = client
                    .disconnect_with(Disconnect {
                        reason,
                        properties: Props::new(plan.props.disconnect.clone()),
                    })
                    .await;
                return result.map_err(|e| e.quiet_if(quiet));
            }
            Err(e) if connect::is_lost(&e) && !matches!(e, ClientError::Closed) => {
                match reconnect(&plan, deadline).await {
                    Some(c) => client = Arc::new(c),
                    None => return Err(Error::TimedOut.quiet_if(quiet)),
                }
            }
            Err(e) => return Err(Error::Lost(e).quiet_if(quiet)),
        }
    }
}

/// Tries to connect again every second; `None` when the `-W` deadline passes first.
async fn reconnect(plan: &Plan, deadline: Option<Instant>) -> Option<Client> {
    let attempts = async {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Ok((c, _)) = Client::connect(plan.conn.options.clone()).await {
                return c;
            }
        }
    };
    tokio::select! {
        c = attempts => Some(c),
        _ = sleep_until(deadline) => None,
    }
}

fn print_suback(debug: bool, ack: &SubAck) {
    if debug {
        let codes: Vec<String> = ack.reasons.iter().map(|r| r.as_u8().to_string()).collect();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "Subscribed (mid: {}): {}",
            ack.packet_id,
            codes.join(", ")
        );
        let _ = out.flush();
    }
}

/// What to do after a message.
enum Next {
    Continue,
    Stop,
}

async fn serve(
    client: &Arc<Client>,
    plan: &mut Plan,
    deadline: Option<Instant>,
    printed: &mut u64,
) -> Result<Result<(), Error>, ClientError> {
    // Handlers in place before the SUBACK: a signal soon after it ends with a DISCONNECT
    // (no will), as with mosquitto_sub, instead of killing the process.
    let mut signals = crate::process::Terminated::new();
    let ack = client
        .subscribe_with(plan.subscriptions.clone(), plan.props.subscribe.clone())
        .await?;
    print_suback(plan.conn.options.debug, &ack);
    if ack.reasons.iter().all(|r| r.is_error()) {
        return Ok(Err(Error::Denied));
    }
    if !plan.unsubscribe.is_empty() {
        client
            .unsubscribe_with(plan.unsubscribe.clone(), plan.props.unsubscribe.clone())
            .await?;
    }
    if plan.exit_after_sub {
        return Ok(Ok(()));
    }
    let mut removals = Vec::new();
    let code = loop {
        let msg = tokio::select! {
            m = client.recv() => m?,
            _ = sleep_until(deadline) => break Err(Error::TimedOut),
            _ = signals.recv() => {
                plan.interrupted = true;
                break Ok(());
            }
        };
        let mut next = handle(client, plan, &msg, &mut removals, printed);
        // Batch what is already buffered into one write; flush before waiting again.
        // With -d the client logs each PUBLISH as it is taken: print one at a time so the
        // log line and the message stay together.
        while matches!(next, Next::Continue) && !plan.conn.options.debug {
            let Some(m) = client.try_recv() else { break };
            next = handle(client, plan, &m, &mut removals, printed);
        }
        if plan.printer.flush().is_err() {
            // Broken pipe: the reader is gone, which is a normal way to stop.
            break Ok(());
        }
        if matches!(next, Next::Stop) {
            break Ok(());
        }
    };
    for r in removals {
        let _ = r.await;
    }
    Ok(code)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn handle(
    client: &Arc<Client>,
    plan: &mut Plan,
    msg: &Publish,
    removals: &mut Vec<tokio::task::JoinHandle<()>>,
    printed: &mut u64,
) -> Next {
    if plan.retained_only && !msg.retain {
        return Next::Stop;
    }
    if plan.no_retained && msg.retain {
        return Next::Continue;
    }
    if plan.filter_out.iter().any(|f| f.matches(&msg.topic)) {
        return Next::Continue;
    }
    if plan.remove_retained && msg.retain {
        // In a task: waiting here for the PUBACK could stall behind unread messages.
        let c = client.clone();
        let topic = msg.topic.to_string();
        removals.push(tokio::spawn(async move {
            let _ = c
                .publish(&topic, bytes::Bytes::new(), QoS::AtLeastOnce, true)
                .await;
        }));
    }
    // A message dropped by --random-filter still counts towards -C, as in mosquitto_sub.
    if plan.sample.is_none_or(|p| rand::random::<f64>() < p) {
        plan.printer.push(msg);
    }
    *printed += 1;
    match plan.count {
        Some(c) if *printed >= c => Next::Stop,
        _ => Next::Continue,
    }
}
