#!/usr/bin/env bash
# Native vs WASM per-request time over the same Fedora-scale snapshot and "mixed" request load (BENCHMARKS.md,
# section WASM). Needs a built pkg/ (bash build.sh) and npm ci.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/build/bench"
(cd "$here/../.." && cargo run --quiet --release -p mirrorvane-wasm --example corpus -- --fedora --mixed "${1:-2000}" --bench "$out")
node "$here/bench/bench.mjs" "$out"
