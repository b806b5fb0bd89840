#!/usr/bin/env bash
# Runs mosquitto's TLS broker tests (test/broker/08-*) with freshly made certificates.
#
# usage: mosquitto-tls-suite.sh SUITE_DIR BROKER_BIN BASEPORT [GLOB...]
#   SUITE_DIR   the folder holding run-mosquitto-suite.sh and mosquitto-2.0.11/ (left untouched)
#   BROKER_BIN, BASEPORT, GLOB  as for run-mosquitto-suite.sh; GLOB defaults to 08-*
# The certificates shipped in mosquitto-2.0.11/test/ssl expired in February 2025, so the suite
# is copied to a temporary folder, test/ssl/gen.sh makes a new set there, and the copy runs.
set -eu
[ $# -ge 3 ] || { sed -n 2,9p "$0" >&2; exit 2; }
SUITE=$(cd "$1" && pwd); BIN=$2; BASE=$3; shift 3
[ $# -gt 0 ] || set -- '08-*'
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mosq-tls-suite.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp "$SUITE/run-mosquitto-suite.sh" "$WORK/"
mkdir -p "$WORK/mosquitto-2.0.11"
cp -r "$SUITE/mosquitto-2.0.11/test" "$WORK/mosquitto-2.0.11/"
chmod -R u+w "$WORK"
(cd "$WORK/mosquitto-2.0.11/test/ssl" && sh ./gen.sh) > "$WORK/gen.log" 2>&1 || {
  cat "$WORK/gen.log" >&2; echo "gen.sh failed" >&2; exit 2; }
# The python tests read test/ssl relative to test/broker, and the keys must stay readable by a
# broker that drops privileges.
chmod -R a+rX "$WORK"
# The runner makes its own temporary folder: inside ours, so that it goes too.
mkdir -p "$WORK/tmp"
export TMPDIR="$WORK/tmp"
set +e
"$WORK/run-mosquitto-suite.sh" "$BIN" "$BASE" "$@"
