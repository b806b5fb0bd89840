#!/usr/bin/env bash
# Compare `mq broker` with Debian's mosquitto on loopback, using `mq bench` as the load.
#
# Every scenario runs against a freshly started broker, alternating which broker goes first,
# and the table at the end gives each figure for both and the ratio mq broker / mosquitto.
# A broker that cannot start (or a run that fails) shows as "n/a" rather than stopping the rest.
# The idle and fan-in scenarios also run against `mq broker` on a websockets listener with
# `mq bench --ws` ("mq-ws"); a second table gives those figures over WebSockets / over TCP.
#
# Environment:
#   DURATION=5        seconds measured per run (idle connections are held 3 s)
#   IDLE=10000        idle connections
#   ROUNDS=1          runs per scenario and broker; the table shows medians
#   MQ=target/release/mq         the load generator
#   MQ_BROKER=$MQ                the binary whose `broker -c CONF` is measured
#   MOSQUITTO=/usr/sbin/mosquitto
#   RUMQTTD=rumqttd   a second peer, run when found (on the PATH or in ~/.cargo/bin; `cargo install
#                     rumqttd`); "none" leaves it out. It runs every scenario but "durable"
#   JSON_OUT=FILE     also write every measured figure as JSON lines to FILE
#   SLOW_RATE=1000000 bytes/s the slow subscriber of the "slow" scenario reads
#   SCENARIOS="idle fanin fanout qos1 latency slow"   the scenarios to run
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
IDLE=${IDLE:-10000}
ROUNDS=${ROUNDS:-1}
MQ=${MQ:-target/release/mq}
MQ_BROKER=${MQ_BROKER:-$MQ}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}
SLOW_RATE=${SLOW_RATE:-1000000}
RUMQTTD=${RUMQTTD:-$(command -v rumqttd || ls ~/.cargo/bin/rumqttd 2>/dev/null || true)}
[ "$RUMQTTD" = none ] && RUMQTTD=

# Both the generator and the brokers hold 10,000 sockets: take the hard limit for us and them.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 100)) ]; then
  echo "compare.sh: the file limit $(ulimit -n) is too low for $IDLE connections" >&2
  exit 1
fi

if [ "$MQ" = target/release/mq ]; then
  echo "building mq (release)..." >&2
  cargo build --release --quiet
fi

WORK=$(mktemp -d)
RESULTS=$WORK/results.tsv
: > "$RESULTS"
BROKER_PID=
cleanup() {
  stop_broker
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

rss_bytes() {
  awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# start_broker NAME: starts a fresh broker on a free port; sets BROKER_PID and PORT.
start_broker() {
  PORT=$(free_port)
  local conf=$WORK/$1.conf
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_connections -1\nlog_dest none\n' "$PORT" > "$conf"
  if [ -n "${PERSIST:-}" ]; then
    rm -rf "$WORK/store-$1"
    mkdir -p "$WORK/store-$1"
    printf 'persistence true\npersistence_location %s/\n' "$WORK/store-$1" >> "$conf"
  fi
  WS_FLAG=()
  case $1 in
    mosquitto) "$MOSQUITTO" -c "$conf" > "$WORK/$1.log" 2>&1 & ;;
    rumqttd)
      rumqttd_conf "$PORT" > "$WORK/rumqttd.toml"
      "$RUMQTTD" -c "$WORK/rumqttd.toml" > "$WORK/$1.log" 2>&1 &
      ;;
    mq) "$MQ_BROKER" broker -c "$conf" > "$WORK/$1.log" 2>&1 & ;;
    mq-ws)
      echo 'protocol websockets' >> "$conf"
      WS_FLAG=(--ws)
      "$MQ_BROKER" broker -c "$conf" > "$WORK/$1.log" 2>&1 &
      ;;
  esac
  BROKER_PID=$!
  for _ in $(seq 100); do
    if (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$BROKER_PID" 2>/dev/null; then
      break
    fi
    sleep 0.05
  done
  echo "  $1 did not start: $(tail -n 2 "$WORK/$1.log" | tr '\n' ' ')" >&2
  stop_broker
  return 1
}

# rumqttd's TOML: one plain v4 listener, room for the idle scenario's connections, and the
# queue and inflight limits of its shipped example.
rumqttd_conf() {
  cat <<TOML
id = 0

[router]
id = 0
max_connections = $((IDLE + 100))
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "127.0.0.1:$1"
next_connection_delay_ms = 0
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 20480
    max_inflight_count = 100
    dynamic_filters = true
TOML
}

stop_broker() {
  if [ -n "$BROKER_PID" ]; then
    kill "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=
  fi
}

record() { # broker metric value
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$RESULTS"
}

# bench_json BROKER ARGS...: one run; prints its summary JSON, or nothing if it failed.
bench_json() {
  local out=$WORK/run.json
  if timeout $((DURATION + 60)) "$MQ" bench "$@" "${WS_FLAG[@]}" -h 127.0.0.1 -p "$PORT" --json --quiet \
      > "$out" 2> "$WORK/run.err"; then
    cat "$out"
  else
    echo "  run failed: $(tail -n 1 "$WORK/run.err")" >&2
  fi
}

# jget JSON PATH: a field of the summary (dotted path).
jget() {
  python3 -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v[k]
print(v)' "$1" "$2"
}

scenario_idle() {
  local b=$1 base during stream=$WORK/idle.jsonl
  base=$(rss_bytes "$BROKER_PID")
  timeout 120 "$MQ" bench conn -c "$IDLE" -d 3 "${WS_FLAG[@]}" -h 127.0.0.1 -p "$PORT" --json-every-second \
    > "$stream" 2> "$WORK/run.err" &
  local gen=$!
  # Sample the broker once every client is connected (the first "running" line).
  for _ in $(seq 600); do
    grep -q '"phase":"running"' "$stream" 2>/dev/null && break
    kill -0 "$gen" 2>/dev/null || break
    sleep 0.1
  done
  during=$(rss_bytes "$BROKER_PID")
  wait "$gen" || { echo "  run failed: $(tail -n 1 "$WORK/run.err")" >&2; return; }
  local summary connected
  summary=$(tail -n 1 "$stream")
  connected=$(jget "$summary" connections.connected)
  if [ "$connected" != "$IDLE" ]; then
    echo "  only $connected of $IDLE connected" >&2
  fi
  record "$b" idle_connect_s "$(jget "$summary" connections.connect_time_s)"
  record "$b" idle_broker_bytes_per_conn $(( (during - base) / (connected > 0 ? connected : 1) ))
  record "$b" idle_generator_bytes_per_conn "$(jget "$summary" memory.per_connection)"
}

scenario_fanin() {
  local s
  s=$(bench_json pubsub -c 100 --subscribers 1 --sub-topic '#' -q 0 -s 64 -I 0 -d "$DURATION")
  [ -n "$s" ] && record "$1" fanin_msgs_per_s "$(jget "$s" messages.received_per_s)"
}

scenario_fanout() {
  local s
  s=$(bench_json pubsub -c 1 --subscribers 1000 -t bench/fanout -q 0 -s 64 -I 0 -d "$DURATION")
  [ -n "$s" ] && record "$1" fanout_deliveries_per_s "$(jget "$s" messages.received_per_s)"
}

scenario_qos1() {
  local s
  s=$(bench_json pubsub -c 10 -q 1 -s 64 -I 0 --inflight 64 -d "$DURATION")
  [ -n "$s" ] && record "$1" qos1_msgs_per_s "$(jget "$s" messages.received_per_s)"
}

scenario_latency() {
  local s
  s=$(bench_json pubsub -c 10 -q 1 -s 64 --msg-rate 10000 -d "$DURATION")
  [ -n "$s" ] || return 0
  if [ "$(jget "$s" messages.rate_held)" != True ]; then
    echo "  10,000 msg/s not held: latency is not meaningful" >&2
    return 0
  fi
  record "$1" qos1_p50_us "$(jget "$s" messages.latency_us.p50)"
  record "$1" qos1_p99_us "$(jget "$s" messages.latency_us.p99)"
}

# One broker, two runs: fan-in to one subscriber alone, then with a slow subscriber of the same
# topics reading SLOW_RATE bytes/s. Records the fast subscriber's rate in both, the share it
# kept, and what the slow one received.
scenario_slow() {
  local base with args=(pubsub -c 100 --subscribers 1 --sub-topic 'bench/#' -q 0 -s 64 -I 0 -d "$DURATION")
  base=$(bench_json "${args[@]}")
  with=$(bench_json "${args[@]}" --slow-subscribers 1 --slow-read-rate "$SLOW_RATE")
  [ -n "$base" ] && [ -n "$with" ] || return 0
  local b0 b1
  b0=$(jget "$base" messages.received_per_s)
  b1=$(jget "$with" messages.received_per_s)
  record "$1" slow_fast_alone_msgs_per_s "$b0"
  record "$1" slow_fast_msgs_per_s "$b1"
  record "$1" slow_fast_kept_pct "$(python3 -c "print(100 * $b1 / $b0 if $b0 else 0)")"
  record "$1" slow_sub_msgs_per_s "$(jget "$with" messages.slow.received_per_s)"
}

# QoS 1 with 100 publisher/subscriber pairs on persistent sessions, `persistence true`: every
# delivery queued for a session that outlives its connection is written to the store (mq
# broker commits it before the PUBACK; mosquitto saves its database every autosave_interval).
scenario_durable() {
  local s
  s=$(bench_json pubsub -c 100 -q 1 -s 64 -I 0 --no-clean -d "$DURATION")
  [ -n "$s" ] && record "$1" durable_qos1_msgs_per_s "$(jget "$s" messages.received_per_s)"
}

read -r -a SCENARIOS <<< "${SCENARIOS:-idle fanin fanout qos1 latency slow durable}"
started=$(date +%s)
for round in $(seq "$ROUNDS"); do
  i=0
  for sc in "${SCENARIOS[@]}"; do
    # Alternate which broker goes first, so neither always runs on a warmer machine.
    if [ $(( (i + round) % 2 )) -eq 0 ]; then order=(mosquitto mq); else order=(mq mosquitto); fi
    case $sc in idle | fanin) order+=(mq-ws) ;; esac
    if [ -n "$RUMQTTD" ] && [ "$sc" != durable ]; then order+=(rumqttd); fi
    for b in "${order[@]}"; do
      echo "round $round: $sc against $b" >&2
      PERSIST=
      [ "$sc" = durable ] && PERSIST=1
      if start_broker "$b"; then
        "scenario_$sc" "$b" || true
        stop_broker
      fi
    done
    i=$((i + 1))
  done
done

python3 - "$RESULTS" "${JSON_OUT:-}" <<'EOF'
import json, statistics, sys

rows = {}
for line in open(sys.argv[1]):
    broker, metric, value = line.rstrip("\n").split("\t")
    rows.setdefault((broker, metric), []).append(float(value))
if sys.argv[2]:
    with open(sys.argv[2], "w") as f:
        for (broker, metric), values in sorted(rows.items()):
            f.write(json.dumps({"broker": broker, "metric": metric, "values": values}) + "\n")

metrics = [
    ("idle_connect_s", "10,000 idle: time to connect all (s)", "lower"),
    ("idle_broker_bytes_per_conn", "10,000 idle: broker memory per connection (B)", "lower"),
    ("idle_generator_bytes_per_conn", "10,000 idle: generator memory per connection (B)", "lower"),
    ("fanin_msgs_per_s", "fan-in 100 pub -> 1 sub, QoS 0, 64 B (msg/s)", "higher"),
    ("fanout_deliveries_per_s", "fan-out 1 pub -> 1,000 subs, QoS 0 (deliveries/s)", "higher"),
    ("qos1_msgs_per_s", "QoS 1 point-to-point, 10 pairs (msg/s)", "higher"),
    ("qos1_p50_us", "QoS 1 latency p50 at 10,000 msg/s (us)", "lower"),
    ("qos1_p99_us", "QoS 1 latency p99 at 10,000 msg/s (us)", "lower"),
    ("durable_qos1_msgs_per_s", "durable QoS 1, 100 pairs, persistence (msg/s)", "higher"),
    ("slow_fast_alone_msgs_per_s", "slow sub: fast sub alone, fan-in 100 -> 1 (msg/s)", "higher"),
    ("slow_fast_msgs_per_s", "slow sub: fast sub beside a slow one (msg/s)", "higher"),
    ("slow_fast_kept_pct", "slow sub: fast sub's rate kept (%)", "higher"),
    ("slow_sub_msgs_per_s", "slow sub: what the slow one receives (msg/s)", "higher"),
]

def med(broker, metric):
    v = rows.get((broker, metric))
    return statistics.median(v) if v else None

def fmt(x):
    if x is None:
        return "n/a"
    return f"{x:.3f}" if x < 10 else f"{x:,.0f}"

def table(title, left, right, a, b, ratio_name, keys):
    print(f"| {title:<52} | {'better':<6} | {left:>12} | {right:>12} | {ratio_name:>14} |")
    print(f"|{'-' * 54}|{'-' * 8}|{'-' * 14}|{'-' * 14}|{'-' * 16}|")
    for key, label, better in keys:
        x, y = med(a, key), med(b, key)
        ratio = f"{x / y:.2f}" if x is not None and y else "n/a"
        print(f"| {label:<52} | {better:<6} | {fmt(x):>12} | {fmt(y):>12} | {ratio:>14} |")

table("scenario", "mq broker", "mosquitto", "mq", "mosquitto", "mq / mosquitto", metrics)
ws_rows = [m for m in metrics if med("mq-ws", m[0]) is not None]
if ws_rows:
    print()
    table("mq broker over WebSockets", "websockets", "tcp", "mq-ws", "mq", "ws / tcp", ws_rows)
rq_rows = [m for m in metrics if med("rumqttd", m[0]) is not None]
if rq_rows:
    print()
    table("mq broker against rumqttd", "mq broker", "rumqttd", "mq", "rumqttd", "mq / rumqttd", rq_rows)
EOF
echo "(took $(( $(date +%s) - started )) s)" >&2
