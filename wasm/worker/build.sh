#!/usr/bin/env bash
# Builds the WASM package in wasm/worker/pkg/: cargo (wasm32-unknown-unknown, release) → wasm-bindgen --target web
# (one ES module glue for Workers, Node and Deno) → wasm-opt -Oz from the npm package `binaryen` (Debian's
# binaryen 108 produces a module that crashes at instantiation). Prints the sizes and fails over budget.
#
# Needs: `wasm-bindgen` 0.2.130 on PATH (cargo install wasm-bindgen-cli --version 0.2.130) and `npm ci` done here.
# Honours CARGO_TARGET_DIR and RUSTFLAGS (scripts/test.sh passes its own so the cargo build is not repeated).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
max_raw=$((1024 * 1024))
max_gzip=$((400 * 1024))

want=0.2.130
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
if [ "$have" != "$want" ]; then
  echo "wasm-bindgen $want needed (found '${have:-none}'): cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi
wasm_opt="$here/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || { echo "run npm ci in $here first (wasm-opt from binaryen)" >&2; exit 1; }

(cd "$root" && cargo build -p mirrorvane-wasm --target wasm32-unknown-unknown --release)
rm -rf "$here/pkg"
wasm-bindgen --target web --out-dir "$here/pkg" \
  "$target_dir/wasm32-unknown-unknown/release/mirrorvane_wasm.wasm"
bg="$here/pkg/mirrorvane_wasm_bg.wasm"
# -Oz without -g also drops the names and the release profile's line tables.
"$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals --enable-reference-types --enable-multivalue "$bg" -o "$bg.opt"
mv "$bg.opt" "$bg"

raw=$(wc -c <"$bg")
gz=$(gzip -9 -c "$bg" | wc -c)
printf 'mirrorvane_wasm_bg.wasm after wasm-opt -Oz: %d bytes raw, %d bytes gzip -9 (budget %d / %d)\n' \
  "$raw" "$gz" "$max_raw" "$max_gzip"
if [ "$raw" -gt "$max_raw" ] || [ "$gz" -gt "$max_gzip" ]; then
  echo "over the size budget" >&2
  exit 1
fi
