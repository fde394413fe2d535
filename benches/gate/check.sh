#!/usr/bin/env bash
# The performance regression gate: instructions per request of a fixed request mix, counted by valgrind's
# callgrind and compared with the reference committed beside this script (reference.toml).
#
# The mix is the load test's (benches/gate/src/lib.rs: 4,096 requests, popular repositories, the dataset's
# netblock/ASN clients and 2,000 addresses over the IPv4 space, fixed seeds), answered in-process on the
# Fedora-scale snapshot (the dataset's MirrorManager cache, converted by `mirrorvane snapshot --from-mm2-cache`),
# with a synthetic country database generated with a fixed seed and the dataset's global_netblocks.txt. One pass
# warms up; only the second pass, inside `mirrorvane_perf_gate::answer` (locate + decide + render), is counted.
# Setup (snapshot decode, index build, GeoIP load) is not.
#
# Usage: benches/gate/check.sh            measure, compare, exit 1 when an endpoint grew beyond the margin
#        benches/gate/check.sh --update   measure and rewrite reference.toml; prints the line for the commit
#                                         message ("metalink 68,620 → 69,100 instructions/request (+0.7 %)…")
# Environment:
#   MIRRORVANE_FEDORA_SCALE  the dataset (default ../shared/data/fedora-scale). Without it the gate says
#                            SKIPPED, loudly, and exits 0 (as the dataset's tests do in scripts/test.sh).
#   MIRRORVANE_BIN           the `mirrorvane` binary that converts the cache (default $CARGO_TARGET_DIR/debug/
#                            mirrorvane, which the workspace tests build; built here when missing). Any build
#                            profile converts to the same bytes.
#   CARGO_TARGET_DIR         honoured; the gate's files, and its build (`cargo build --release -p
#                            mirrorvane-perf-gate`: selector, geo, mmdb-writer; 10-35 s from scratch on 2 cores),
#                            go to $CARGO_TARGET_DIR/perf-gate/<checkout>/ (see below).
# Needs valgrind (Debian package `valgrind`). ~20 s when built (two callgrind runs side by side), ~40 s from
# scratch on an idle 2-core machine (build ~10 s, conversion ~9 s).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

usage() { sed -n '/^# Usage:/,/^# Environment:/p' "$here/check.sh" | sed '$d; s/^# \{0,1\}//'; }
update=0
case "${1:-}" in
  --update) update=1 ;;
  "") ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

reference=$here/reference.toml
endpoints=(metalink mirrorlist)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
data=${MIRRORVANE_FEDORA_SCALE:-$root/../shared/data/fedora-scale}
cache=$data/cache-fedora.proto.gz
# One directory per checkout, with its own cargo target directory: cargo names a workspace's artifacts by paths
# relative to the workspace root and judges them fresh by modification times, so two checkouts (git worktrees)
# building into one target directory can each run the other's build without a word — a gate measuring main's
# code on a branch. The dependencies build once more here (all the gate needs: 41 crates).
work=$target_dir/perf-gate/$(basename "$root")-$(printf '%s' "$root" | sha256sum | cut -c1-8)

# Like the dataset's tests in scripts/test.sh: a clone without the dataset skips the gate, loudly.
if [ ! -f "$cache" ] || [ ! -f "$data/global_netblocks.txt" ]; then
  printf '\n*** SKIPPED: the performance gate: no Fedora-scale dataset at %s (set MIRRORVANE_FEDORA_SCALE). ***\n\n' "$data"
  exit 0
fi
if ! command -v valgrind >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "perf gate: valgrind is needed (apt install valgrind; .ci/run installs it)" >&2
    exit 1
  fi
  printf '\n*** SKIPPED: the performance gate: valgrind is not installed (apt install valgrind). ***\n\n'
  exit 0
fi
mkdir -p "$work"

# --- build ------------------------------------------------------------------------------------------------------
cargo build --release --quiet -p mirrorvane-perf-gate --bin perf-gate --target-dir "$work/target"
gate=$work/target/release/perf-gate

if [ -n "${MIRRORVANE_BIN:-}" ]; then
  mirrorvane=$MIRRORVANE_BIN
else
  mirrorvane=$target_dir/debug/mirrorvane
  # The workspace tests build it; a `cargo build -p` of its own would unify features differently and rebuild
  # much of the workspace, so only when it is missing.
  [ -x "$mirrorvane" ] || cargo build --quiet -p mirrorvane-backend --bin mirrorvane
fi
[ -x "$mirrorvane" ] || { echo "perf gate: no mirrorvane binary at $mirrorvane" >&2; exit 1; }

# The snapshot, converted again whenever the binary or the cache is newer (same bytes on every conversion).
snapshot=$work/fedora.snap
if [ ! -f "$snapshot" ] || [ "$mirrorvane" -nt "$snapshot" ] || [ "$cache" -nt "$snapshot" ]; then
  "$mirrorvane" snapshot --from-mm2-cache "$cache" -o "$snapshot" >"$work/snapshot.log" 2>&1 || {
    cat "$work/snapshot.log" >&2
    echo "perf gate: converting $cache failed" >&2
    exit 1
  }
fi
snapshot_sha256=$(sha256sum "$snapshot" | cut -d' ' -f1)

# --- measure: one callgrind run per endpoint, side by side (counts do not depend on timing) ----------------------
pids=()
for e in "${endpoints[@]}"; do
  valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.$e.out" \
    --toggle-collect='mirrorvane_perf_gate::answer' \
    "$gate" "$snapshot" "$data" "$e" >"$work/$e.log" 2>"$work/$e.valgrind.log" &
  pids+=($!)
done
for i in "${!endpoints[@]}"; do
  if ! wait "${pids[$i]}"; then
    cat "$work/${endpoints[$i]}.log" "$work/${endpoints[$i]}.valgrind.log" >&2
    echo "perf gate: the ${endpoints[$i]} run failed" >&2
    exit 1
  fi
done

declare -A measured
for e in "${endpoints[@]}"; do
  total=$(awk '/^summary:/ {print $2; exit}' "$work/callgrind.$e.out")
  requests=$(awk '/^counted:/ {print $2; exit}' "$work/$e.log")
  if [ -z "$total" ] || [ "$total" -eq 0 ] || [ -z "$requests" ]; then
    echo "perf gate: no instructions counted for $e: is mirrorvane_perf_gate::answer still a function of its own?" >&2
    exit 1
  fi
  measured[$e]=$(awk -v t="$total" -v n="$requests" 'BEGIN { printf "%.0f", t / n }')
done

# --- compare ------------------------------------------------------------------------------------------------------
# `key = value` of [section] in reference.toml, quotes removed; empty when absent.
toml_get() {
  [ -f "$reference" ] || return 0
  awk -v section="$1" -v key="$2" '
    /^\[/ { if (section == "") exit; in_section = ($0 == "[" section "]"); next }
    (section == "" || in_section) && $1 == key && $2 == "=" {
      sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]*#.*$/, ""); gsub(/"/, ""); print; exit
    }' "$reference"
}
commas() { awk -v n="$1" 'BEGIN { s = sprintf("%d", n); while (s ~ /[0-9]{4}/) sub(/[0-9]{3}($|,)/, ",&", s); print s }'; }
change() { awk -v m="$1" -v r="$2" 'BEGIN { printf "%+.2f", (m - r) * 100 / r }'; }
beyond() { awk -v c="$1" -v limit="$2" 'BEGIN { exit !(c > limit) }'; }

margin=$(toml_get "" margin_percent)
margin=${margin:-3}
rustc_now=$(rustc -V)
valgrind_now=$(valgrind --version)

printf 'perf gate: instructions per request (locate + decide + render), the load test'"'"'s mix of 4,096 requests on\n'
printf 'the Fedora-scale snapshot; reference %s, margin %s %%\n' "${reference#"$root"/}" "$margin"
failed=() improved=() summary=()
for e in "${endpoints[@]}"; do
  m=${measured[$e]}
  r=$(toml_get instructions_per_request "$e")
  if [ -z "$r" ]; then
    printf '  %-10s %10s   measured %10s   (no reference)\n' "$e" "-" "$(commas "$m")"
    summary+=("$e $(commas "$m") instructions/request (new)")
    continue
  fi
  c=$(change "$m" "$r")
  verdict=ok
  if [ "$update" -eq 1 ]; then
    verdict=""
  elif beyond "$c" "$margin"; then
    verdict="FAILED: grew by more than $margin %"
    failed+=("$e")
  elif beyond "$(awk -v c="$c" 'BEGIN { print -c }')" "$margin"; then
    verdict="fell by more than $margin %"
    improved+=("$e")
  fi
  printf '  %-10s reference %10s   measured %10s   %8s %%   %s\n' "$e" "$(commas "$r")" "$(commas "$m")" "$c" "$verdict"
  summary+=("$e $(commas "$r") → $(commas "$m") instructions/request ($(awk -v c="$c" 'BEGIN { printf "%+.1f", c }') %)")
done

ref_rustc=$(toml_get measured_with rustc)
ref_valgrind=$(toml_get measured_with valgrind)
ref_sha=$(toml_get measured_with snapshot_sha256)
if [ -f "$reference" ] && [ "$update" -eq 0 ]; then
  [ "$ref_rustc" = "$rustc_now" ] ||
    echo "note: the reference was measured with $ref_rustc, this run with $rustc_now; a compiler alone moves counts"
  [ "$ref_valgrind" = "$valgrind_now" ] ||
    echo "note: the reference was measured with $ref_valgrind, this run with $valgrind_now"
  [ "$ref_sha" = "$snapshot_sha256" ] ||
    echo "note: the snapshot differs from the reference's (the converter or the format changed): counts move with it"
fi

if [ "$update" -eq 1 ]; then
  cat >"$reference" <<EOF
# The performance gate's reference (benches/gate/check.sh; benches/README.md): instructions per request of the
# fixed mix — the load test's 4,096 requests, locate + decide + render, on the Fedora-scale snapshot — counted by
# callgrind. Written by \`benches/gate/check.sh --update\`; commit it with the line that command prints.

# Growth beyond this fails the gate. Two runs of one build differ by at most 0.005 % (glibc's memcpy and memcmp
# take alignment-dependent paths), so the margin is not for noise: it is for what moves counts without a change
# of ours — a newer compiler moved them by +0.1 % (metalink) and -0.9 % (mirrorlist) from 1.95 to a 1.97
# nightly — and stays below what the timed benchmarks can see at all (their rounds differ by ±10 %).
margin_percent = $margin

[instructions_per_request]
EOF
  for e in "${endpoints[@]}"; do
    printf '%s = %s\n' "$e" "${measured[$e]}" >>"$reference"
  done
  cat >>"$reference" <<EOF

# What the counts were measured with: another compiler, valgrind, glibc or snapshot moves them.
[measured_with]
rustc = "$rustc_now"
valgrind = "$valgrind_now"
glibc = "$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)"
snapshot_sha256 = "$snapshot_sha256"
EOF
  echo "updated ${reference#"$root"/}; for the commit message:"
  (IFS=';'; echo "${summary[*]}" | sed 's/;/; /g')
  exit 0
fi

if [ "${#improved[@]}" -gt 0 ]; then
  echo "note: ${improved[*]} fell by more than the margin: lock the gain in with benches/gate/check.sh --update"
  echo "      (and the line it prints in the commit message), or the next regression hides in the slack."
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "perf gate FAILED: ${failed[*]} grew beyond the margin. Callgrind profiles: $work/callgrind.*.out"
  echo "(callgrind_annotate --inclusive=yes FILE). If the cost is intended, run benches/gate/check.sh --update and"
  echo "commit reference.toml with the line it prints, explained, in the commit message."
  exit 1
fi
echo "perf gate: ok"
