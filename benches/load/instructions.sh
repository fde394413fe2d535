#!/usr/bin/env bash
# Instructions per request of the load test's mix, in-process (examples/replay.rs: locate + decide + render),
# counted by valgrind's callgrind. Unlike times, the count is the same on every run of the same binary and
# inputs, whatever else the machine is doing — the figure to compare two builds with on a noisy machine.
# Usage: benches/load/instructions.sh SNAPSHOT COUNTRY.mmdb ASN_FILE DATA_DIR [metalink|mirrorlist]
# Needs valgrind (Debian package `valgrind`) and a release build of the replay example:
#   cargo build --release -p mirrorvane-benches --example replay
set -euo pipefail
snapshot=$1 geoip=$2 asn=$3 data=$4 endpoint=${5:-mirrorlist}
here=$(cd "$(dirname "$0")" && pwd)
replay=${REPLAY:-$here/../../target/release/examples/replay}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# SECONDS = 0: only the first pass over the mix's 4,096 requests; only time inside Selector::handle counts.
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='*Selector*handle' \
  "$replay" "$snapshot" "$geoip" "$asn" "$data" "$endpoint" 0 > /dev/null 2>&1
total=$(awk '/^(summary|totals):/ {print $2; exit}' "$out")
echo "$endpoint: $((total / 4096)) instructions per request (locate + decide + render)"
