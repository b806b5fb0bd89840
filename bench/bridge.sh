#!/usr/bin/env bash
# What a bridge costs: latency and throughput from a publisher to a subscriber on Debian's
# mosquitto (the remote), three ways in the same run:
#
#   direct     publisher -> mosquitto -> subscriber
#   mq-bridge  publisher -> mq broker -> bridge -> mosquitto -> subscriber
#   mosq-bridge publisher -> mosquitto -> bridge -> mosquitto -> subscriber  (for reference)
#
# The subscriber (`mq bench sub`) reads the send time stamped in each payload, so latency is
# end to end. Latency runs publish at a steady rate the remote easily takes (RATE msg/s);
# throughput runs publish as fast as they can (-I 0) for DURATION seconds and count what the
# subscriber received.
#
# Environment:
#   DURATION=5   seconds per run          RATE=2000   msg/s for the latency runs
#   ROUNDS=3     runs per figure (the table shows medians)
#   MQ=target/release/mq      MOSQUITTO=/usr/sbin/mosquitto
# Needs mosquitto_sub (to see the bridge's state on the remote) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
RATE=${RATE:-2000}
ROUNDS=${ROUNDS:-3}
MQ=${MQ:-target/release/mq}
MOSQUITTO=${MOSQUITTO:-/usr/sbin/mosquitto}

if [ "$MQ" = target/release/mq ]; then
  echo "building mq (release)..." >&2
  cargo build --release --quiet
fi

WORK=$(mktemp -d)
RESULTS=$WORK/results.tsv
: > "$RESULTS"
PIDS=()
cleanup() {
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_all() {
  for p in "${PIDS[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}

wait_port() {
  for _ in $(seq 200); do
    (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listening on $1" >&2
  return 1
}

# wait_bridge: until the remote holds the bridge's retained state 1 (at most 10 s).
wait_bridge() {
  for _ in $(seq 100); do
    if [ "$(mosquitto_sub -p "$REMOTE" -t '$SYS/broker/connection/+/state' -C 1 -W 1 2>/dev/null)" = 1 ]; then
      return 0
    fi
    sleep 0.1
  done
  echo "the bridge did not connect: $(tail -n 3 "$WORK/edge.log")" >&2
  return 1
}

# setup WAY QOS: starts the remote mosquitto (REMOTE) and, for the bridged ways, the edge
# broker (EDGE) bridged to it; publishers then use EDGE.
setup() {
  REMOTE=$(free_port)
  printf 'listener %s 127.0.0.1\nallow_anonymous true\nlog_dest none\n' "$REMOTE" > "$WORK/remote.conf"
  "$MOSQUITTO" -c "$WORK/remote.conf" > /dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$REMOTE"
  EDGE=$REMOTE
  [ "$1" = direct ] && return 0
  EDGE=$(free_port)
  cat > "$WORK/edge.conf" <<EOF
listener $EDGE 127.0.0.1
allow_anonymous true
log_dest none
connection bench
address 127.0.0.1:$REMOTE
restart_timeout 1
topic bench/# out $2
EOF
  : > "$WORK/edge.log"
  case $1 in
    mq-bridge) "$MQ" broker -c "$WORK/edge.conf" > "$WORK/edge.log" 2>&1 & ;;
    mosq-bridge) "$MOSQUITTO" -c "$WORK/edge.conf" > "$WORK/edge.log" 2>&1 & ;;
  esac
  PIDS+=($!)
  wait_port "$EDGE"
  wait_bridge
}

# run WAY QOS KIND: one measured run; records the subscriber's figures.
run() {
  local way=$1 qos=$2 kind=$3 pubargs
  setup "$way" "$qos"
  "$MQ" bench sub -c 1 -t 'bench/#' -q "$qos" -d $((DURATION + 2)) -h 127.0.0.1 -p "$REMOTE" \
    --json --quiet > "$WORK/sub.json" 2> "$WORK/sub.err" &
  local sub=$!
  sleep 0.5
  case $kind/$way in
    latency/*) pubargs=(-c 1 --msg-rate "$RATE") ;;
    # The figure to beat: one plain client publishing to the remote as fast as it can ...
    rate/direct) pubargs=(-c 1 -I 0 --inflight 20) ;;
    # ... against a bridge (one connection too) fed by four publishers.
    rate/*) pubargs=(-c 4 -I 0 --inflight 20) ;;
  esac
  "$MQ" bench pub "${pubargs[@]}" -t bench/x -q "$qos" -s 64 -d "$DURATION" \
    -h 127.0.0.1 -p "$EDGE" --json --quiet > "$WORK/pub.json" 2> "$WORK/pub.err" || true
  wait "$sub" || true
  stop_all
  python3 - "$WORK/sub.json" "$way" "$qos" "$kind" "$DURATION" >> "$RESULTS" <<'EOF'
import json, sys
path, way, qos, kind, duration = sys.argv[1:]
try:
    s = json.load(open(path))["messages"]
except Exception:
    sys.exit(1)
if s["received"] == 0:
    sys.exit(1)
if kind == "latency":
    print(f"{way}\tqos{qos}_p50_us\t{s['latency_us']['p50']}")
    print(f"{way}\tqos{qos}_p99_us\t{s['latency_us']['p99']}")
else:
    print(f"{way}\tqos{qos}_msgs_per_s\t{s['received'] / float(duration):.0f}")
EOF
}

for round in $(seq "$ROUNDS"); do
  for qos in 0 1; do
    for kind in latency rate; do
      for way in direct mq-bridge mosq-bridge; do
        echo "round $round: qos $qos $kind $way" >&2
        # A run in which nothing arrived (the generator now and then sends nothing against a
        # broker that has just started) is run again, twice at most.
        for _ in 1 2 3; do
          run "$way" "$qos" "$kind" && break
          echo "  nothing received; again" >&2
        done
      done
    done
  done
done

python3 - "$RESULTS" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    way, metric, value = line.rstrip("\n").split("\t")
    rows.setdefault((way, metric), []).append(float(value))
metrics = sorted({m for _, m in rows})
ways = ["direct", "mq-bridge", "mosq-bridge"]
print(f"| {'figure':<18} | " + " | ".join(f"{w:>11}" for w in ways) + " | mq-bridge - direct |")
print("|" + "---|" * (len(ways) + 2))
for m in metrics:
    med = {w: statistics.median(rows[(w, m)]) for w in ways if (w, m) in rows}
    cells = " | ".join(f"{med[w]:>11.0f}" if w in med else f"{'n/a':>11}" for w in ways)
    diff = (f"{med['mq-bridge'] - med['direct']:+.0f}"
            if "direct" in med and "mq-bridge" in med else "n/a")
    print(f"| {m:<18} | {cells} | {diff:>18} |")
EOF
