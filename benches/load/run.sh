#!/usr/bin/env bash
# Load benchmark of a running configuration: starts mirrorvane-edge on a snapshot, measures start-up time, RSS
# and server CPU per request under wrk (metalink and mirrorlist), and prints one line per figure.
# Usage: benches/load/run.sh SNAPSHOT COUNTRY.mmdb DATA_DIR [ASN_FILE]
#   DATA_DIR holds repos.txt and special_clients.txt (../shared/data/fedora-scale has both).
# FLOOR_BYTES=N runs edge/examples/floor.rs instead (same HTTP stack, a fixed N-byte body, no decision): the
# floor that the edge's figures are compared with.
# Needs wrk (Debian package `wrk`). Everything binds 127.0.0.1.
set -euo pipefail
snapshot=$1 geoip=$2 data=$3 asn=${4:-$3/global_netblocks.txt}
here=$(cd "$(dirname "$0")" && pwd)
edge=${EDGE:-$here/../../target/release/mirrorvane-edge}
duration=${DURATION:-15s}
port=${PORT:-18181}

start=$(date +%s%N)
if [ -n "${FLOOR_BYTES:-}" ]; then
  "$here/../../target/release/examples/floor" --body-bytes "$FLOOR_BYTES" --listen 127.0.0.1:$port > /tmp/edge-load.out 2>/tmp/edge-load.err &
else
  "$edge" --snapshot "$snapshot" --geoip "$geoip" --asn "$asn" --listen 127.0.0.1:$port > /tmp/edge-load.out 2>/tmp/edge-load.err &
fi
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until grep -q Listening /tmp/edge-load.out 2>/dev/null; do sleep 0.005; done
echo "start_ms $(( ($(date +%s%N) - start) / 1000000 ))"
echo "rss_after_load_kb $(awk '/VmRSS/ {print $2}' /proc/$pid/status)"

ticks() { awk '{print $14 + $15}' /proc/$pid/stat; }
hz=$(getconf CLK_TCK)
for endpoint in metalink mirrorlist; do
  before=$(ticks)
  out=$(ENDPOINT=$endpoint DATA=$data wrk -t2 -c64 -d"$duration" --latency -s "$here/requests.lua" http://127.0.0.1:$port/)
  after=$(ticks)
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  bytes=$(echo "$out" | awk '/Transfer\/sec/ {print $2}')
  cpu_us=$(awk -v t=$((after - before)) -v hz=$hz -v n=$requests 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
  echo "$endpoint requests=$requests rps=$rps p50=$p50 p99=$p99 transfer/s=$bytes server_cpu_us_per_request=$cpu_us"
done
echo "rss_after_load_kb $(awk '/VmRSS/ {print $2}' /proc/$pid/status)"
