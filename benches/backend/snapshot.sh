#!/usr/bin/env bash
# Fedora-scale snapshot build benchmark (a benchmark, not a test): fills a database with the Fedora-scale dataset
# (../shared/data/fedora-scale: ~400 hosts, 25,000 directories, ~4,000 repositories, ~1.8 million up-to-date
# host × directory states) and times `mirrorvane snapshot` on it, reporting wall time and peak RSS from
# /usr/bin/time -v. PostgreSQL by default (the issue's target: <= 3 s, <= 150 MB, snapshot <= 4 MB); pass
# `sqlite` as the first argument for the embedded engine.
#
# Usage: benches/backend/snapshot.sh [postgres|sqlite] [RUNS]
#   MIRRORVANE_BENCH_POSTGRES  server URL without database (default postgres://postgres@127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/../.."

ENGINE="${1:-postgres}"
RUNS="${2:-3}"
CACHE="${MIRRORVANE_FEDORA_CACHE:-../shared/data/fedora-scale/cache-fedora.proto.gz}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cargo build --release -p mirrorvane-backend --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/mirrorvane"

case "$ENGINE" in
  postgres)
    SERVER="${MIRRORVANE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
    psql "$SERVER/test" -qc "DROP DATABASE IF EXISTS mirrorvane_bench WITH (FORCE)" -c "CREATE DATABASE mirrorvane_bench"
    DB="$SERVER/mirrorvane_bench"
    ;;
  sqlite) DB="sqlite://$WORK/bench.db" ;;
  *) echo "engine must be postgres or sqlite" >&2; exit 2 ;;
esac

echo "== filling $ENGINE with $CACHE"
/usr/bin/time -f "import: %e s wall, %M KB peak RSS" "$BIN" --database "$DB" import-mm2-cache "$CACHE"

for i in $(seq "$RUNS"); do
  /usr/bin/time -v "$BIN" --database "$DB" snapshot --no-resolve -o "$WORK/fedora.snapshot" \
    >"$WORK/out" 2>"$WORK/time"
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time" | awk '{print $NF}')
  printf 'run %d: %s wall, %d MB peak RSS, snapshot %d bytes\n' "$i" "$wall" $((rss / 1024)) \
    "$(wc -c <"$WORK/fedora.snapshot")"
done
cat "$WORK/out"
