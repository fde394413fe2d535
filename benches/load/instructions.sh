#!/usr/bin/env bash
# Instructions per request of the load test's mix, in-process (examples/replay.rs: locate + decide + render),
# counted by valgrind's callgrind. Unlike times, the count is the same on every run of the same binary and
# inputs, whatever else the machine is doing — the figure to compare two builds with on a noisy machine.
# Usage: benches/load/instructions.sh SNAPSHOT COUNTRY.mmdb ASN_FILE DATA_DIR [metalink|mirrorlist]
# CACHE_SIM=1 also simulates the caches and prints data-cache misses per request; with REPLAY_EVICT_BYTES=N
# (see examples/replay.rs) every request starts with caches that N bytes of other work went through, as under
# load. Misses, like instructions, are the same on every run.
# Needs valgrind (Debian package `valgrind`) and a release build of the replay example:
#   cargo build --release -p mirrorvane-benches --example replay
set -euo pipefail
snapshot=$1 geoip=$2 asn=$3 data=$4 endpoint=${5:-mirrorlist}
here=$(cd "$(dirname "$0")" && pwd)
replay=${REPLAY:-$here/../../target/release/examples/replay}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# SECONDS = 0: one timed pass over the mix's 4,096 requests; only what runs inside `answer` (benches/gate/src/lib.rs) counts.
sim=()
if [ -n "${CACHE_SIM:-}" ]; then
  # A core's caches on the machines we measure on: 32 KiB L1 data, 512 KiB L2 (the simulated last level).
  sim=(--cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=524288,8,64)
fi
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect='mirrorvane_perf_gate::answer' "${sim[@]}" \
  "$replay" "$snapshot" "$geoip" "$asn" "$data" "$endpoint" 0 > /dev/null 2>&1
read -r -a events <<< "$(awk '/^events:/ {$1 = ""; print; exit}' "$out")"
read -r -a totals <<< "$(awk '/^(summary|totals):/ {$1 = ""; print; exit}' "$out")"
line="$endpoint (locate + decide + render) per request:"
for i in "${!events[@]}"; do
  case ${events[$i]} in
    Ir) line+=" instructions $((totals[i] / 4096))" ;;
    D1mr) d1=$((totals[i])) ;;
    D1mw) line+=" L1d-misses $(((d1 + totals[i]) / 4096))" ;;
    DLmr) dl=$((totals[i])) ;;
    DLmw) line+=" L2-misses $(((dl + totals[i]) / 4096))" ;;
  esac
done
echo "$line"
