#!/usr/bin/env bash
# User-space instructions per request of the whole edge process (hyper, tokio, the selector, GeoIP, metrics),
# counted by valgrind's callgrind while h2load sends a fixed number of HTTP/1.1 requests of the load test's mix.
# Like instructions.sh for the selector alone: the same on every run of the same binary, whatever else the
# machine is doing, so two edge builds can be compared where wrk's CPU figures drift (the kernel's share is not
# counted). Usage: benches/load/edge-instructions.sh SNAPSHOT COUNTRY.mmdb DATA_DIR [metalink|mirrorlist]
# Needs valgrind and h2load (Debian packages `valgrind`, `nghttp2-client`). EDGE= picks the binary; binds
# 127.0.0.1:$PORT (default 18290).
set -euo pipefail
snapshot=$1 geoip=$2 data=$3 endpoint=${4:-mirrorlist}
here=$(cd "$(dirname "$0")" && pwd)
edge=${EDGE:-$here/../../target/release/mirrorvane-edge}
port=${PORT:-18290}
requests=8192
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT

# The mix of requests.lua: popular repositories; the dataset's special clients and 2,000 spread addresses.
awk -v endpoint="$endpoint" -v port="$port" '
  FILENAME ~ /repos.txt$/ && $3 == "1" { repos[nr++] = "repo=" $1 "&arch=" $2 }
  FILENAME ~ /special_clients.txt$/ && !/^#/ && NF { clients[nc++] = $1 }
  END {
    srand(42)
    for (i = 0; i < 2000; i++)
      clients[nc++] = sprintf("%d.%d.%d.%d", 1 + int(rand() * 223), int(rand() * 256), int(rand() * 256), 1 + int(rand() * 254))
    for (i = 0; i < 4096; i++)
      printf "http://127.0.0.1:%d/%s?%s&ip=%s&countme=1\n", port, endpoint, repos[int(rand() * nr)], clients[int(rand() * nc)]
  }' "$data/repos.txt" "$data/special_clients.txt" > "$work/uris"

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/out" "$edge" --snapshot "$snapshot" \
  --geoip "$geoip" --asn "$data/global_netblocks.txt" --listen 127.0.0.1:$port --workers 2 > "$work/log" 2>&1 &
pid=$!
until grep -q Listening "$work/log" 2>/dev/null; do
  kill -0 $pid 2>/dev/null || { cat "$work/log" >&2; exit 1; }
  sleep 0.2
done
# One pass to warm up (first-request work such as the host sets' nearby order), then the counted one.
h2load --h1 -n 4096 -c 16 -t 1 -i "$work/uris" > /dev/null
callgrind_control -i on $pid > /dev/null
h2load --h1 -n $requests -c 16 -t 1 -i "$work/uris" > "$work/h2load"
callgrind_control -i off $pid > /dev/null
callgrind_control -d $pid > /dev/null
kill $pid
wait $pid 2>/dev/null || true
grep -q "$requests succeeded" "$work/h2load" || { cat "$work/h2load" >&2; exit 1; }
total=0
for f in "$work"/out*; do
  t=$(awk '/^totals:/ {print $2; exit}' "$f")
  total=$((total + ${t:-0}))
done
echo "$endpoint (edge, user space) per request: instructions $((total / requests))"
