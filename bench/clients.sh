#!/usr/bin/env bash
# Compares `mq pub` / `mq sub` with mosquitto_pub / mosquitto_sub against a private mosquitto
# broker on a free loopback port:
#   1. whole-process time of one QoS 1 publish (start, connect, publish, PUBACK, disconnect),
#      measured by hyperfine;
#   2. subscriber throughput: N small QoS 0 messages published as fast as possible, the
#      subscriber writing to a pipe (`| wc -l`); messages per second for each subscriber.
# Usage: bench/clients.sh [N [D]]   (default N=100000, D=20000). Builds mq in release mode first.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
D=${2:-20000}  # messages queued for the drain measurement
cargo build --release --quiet
MQ=$PWD/target/release/mq
command -v hyperfine >/dev/null || { echo "hyperfine is required" >&2; exit 1; }

tmp=$(mktemp -d)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0
max_inflight_messages 0\n' "$port" >"$tmp/m.conf"
/usr/sbin/mosquitto -c "$tmp/m.conf" >/dev/null 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.3

echo "== one QoS 1 publish, whole process (hyperfine)"
hyperfine -N --warmup 20 --runs 300 --export-json "$tmp/pub.json" \
  "mosquitto_pub -p $port -t bench/x -m y -q 1" \
  "$MQ pub -p $port -t bench/x -m y -q 1"
python3 - "$tmp/pub.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
m, q = r[0]["mean"], r[1]["mean"]
print(f"mq pub / mosquitto_pub mean time ratio: {q/m:.2f} ({q*1e3:.2f} ms vs {m*1e3:.2f} ms)")
PY

# Subscriber throughput: the publisher sends N lines on one connection (-l), the subscriber
# counts them through a pipe; time from the first to the N-th message.
sub_rate() {
  local name=$1; shift
  local out="$tmp/count.$name"
  ( "$@" -p "$port" -t "bench/t" -C "$N" | wc -l >"$out" ) &
  local sub=$!
  sleep 0.5
  local start end
  start=$(date +%s.%N)
  seq 1 "$N" | mosquitto_pub -p "$port" -t bench/t -l
  wait $sub
  end=$(date +%s.%N)
  python3 -c "import sys; n=int(open('$out').read()); t=$end-$start; print(f'{sys.argv[1]:>14}: {n} messages in {t:.3f} s = {n/t:,.0f} msg/s')" "$name"
}
echo "== subscriber throughput, $N messages to a pipe"
sub_rate mosquitto_sub mosquitto_sub
sub_rate "mq sub" "$MQ" sub

# Drain rate: N QoS 1 messages queued in a persistent session while the subscriber is away,
# then delivered as fast as the broker and the subscriber go (the publisher is out of the way).
drain_rate() {
  local name=$1; shift
  local id="drain-$RANDOM"
  "$@" -p "$port" -t bench/q -q 1 -c -i "$id" -E
  seq 1 "$D" | mosquitto_pub -p "$port" -t bench/q -q 1 -l
  local start end n
  start=$(date +%s.%N)
  n=$("$@" -p "$port" -t bench/q -q 1 -c -i "$id" -C "$D" -W 20 | wc -l)
  end=$(date +%s.%N)
  python3 -c "import sys; n=int(sys.argv[2]); t=$end-$start; print(f'{sys.argv[1]:>14}: {n} queued messages drained in {t:.3f} s = {n/t:,.0f} msg/s')" "$name" "$n"
}
echo "== draining $D queued QoS 1 messages to a pipe"
drain_rate mosquitto_sub mosquitto_sub
drain_rate "mq sub" "$MQ" sub
