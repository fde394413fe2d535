#!/usr/bin/env bash
# Runs every check and test of Mirrorvane: the one command the README points at and CI calls (.ci/run).
#
# Usage: scripts/test.sh
#   MIRRORVANE_FUZZ_SECONDS=N   seconds per fuzz target (default 20; 0 skips fuzzing and the cargo-fuzz install)
#   MIRRORVANE_TOOLS=DIR        where the cargo-installed tools go (default target/tools; see below)
#   MIRRORVANE_FEDORA_SCALE=DIR the Fedora-scale dataset (default ../shared/data/fedora-scale): its tests run
#                               when it is there and are reported SKIPPED, loudly, when not
#   MIRRORVANE_TEST_POSTGRES    the PostgreSQL server the database tests create their databases on
#                               (default postgres://postgres@127.0.0.1:5432/test)
#   CARGO_TARGET_DIR            honoured; every step shares it so nothing is compiled twice for the same target
#
# In order: format, clippy, the no_std selector for wasm32v1-none, the wasm crate for wasm32-unknown-unknown
# (release, size printed), all workspace tests (unit, integration, the criterion benchmarks once each in test
# mode, doc tests), the tests of the Fedora-scale dataset, the workspace against the minimum Rust version, the
# WASM worker (built, size-checked, and run against the native selector's answers in Node, workerd and Deno), the
# web UI in headless Chromium, the whole chain with the real dnf (native edge, then workerd), and a fuzz smoke run
# per target. Stops at the first failure with a non-zero exit.
#
# What it installs when missing, and where (nothing goes to ~/.cargo/bin):
#   - rustup targets wasm32-unknown-unknown and wasm32v1-none, components rustfmt and clippy, and the toolchain
#     of the workspace's rust-version (minimal profile), to check that the code builds with it;
#   - wasm-bindgen-cli 0.2.130 (the version the wasm crate pins; the JS glue must match it), cargo-deny and, when
#     fuzzing, cargo-fuzz, with `cargo install --root $MIRRORVANE_TOOLS`;
#   - the npm packages of wasm/worker (workerd, Deno, binaryen's wasm-opt) into wasm/worker/node_modules, and
#     playwright-core into tests/browser/node_modules.
# Needs: bash, rustup with a stable Rust, Node >= 20 with npm, PostgreSQL reachable for the database tests, rsync
# (the crawler's tests run rsync daemons as mirrors), dnf (the demo's test runs `dnf makecache`; without it that
# check says SKIPPED, and fails under CI=true — .ci/run installs both), rpmbuild and createrepo_c with dnf, python3
# and psql for the dnf chain (the same: SKIPPED without them, a failure under CI=true), Chromium for the browser tests (the same:
# SKIPPED without it, a failure under CI=true), and
# crates.io, the npm registry and the Rust toolchain server reachable on first run. On 2 cores a first run takes
# about 20 minutes (most of it compiling); later runs reuse target/ and the tools.
set -euo pipefail
cd "$(dirname "$0")/.."

START=$SECONDS
FUZZ_SECONDS="${MIRRORVANE_FUZZ_SECONDS:-20}"
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
TOOLS="${MIRRORVANE_TOOLS:-$TARGET_DIR/tools}"
mkdir -p "$TOOLS/bin"
TOOLS="$(cd "$TOOLS" && pwd)"
export PATH="$TOOLS/bin:$PATH"
FEDORA_SCALE="${MIRRORVANE_FEDORA_SCALE:-$PWD/../shared/data/fedora-scale}"
MSRV="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"
STEP_START=$SECONDS
STEP_NAME=""
CARGO_DENY_VERSION=0.20.2

if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

finish_step() {
  if [ -n "$STEP_NAME" ]; then
    printf '    (%s: %ds)\n' "$STEP_NAME" $((SECONDS - STEP_START))
  fi
}

step() {
  finish_step
  STEP_NAME="$1"
  STEP_START=$SECONDS
  printf '\n==== %s ====\n' "$1"
}

on_exit() {
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '\n==== FAILED in step "%s" (exit %d) after %ds ====\n' "$STEP_NAME" "$rc" $((SECONDS - START))
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------------------------------------------------------
step "setup: toolchain components and targets"
installed_targets="$(rustup target list --installed)"
for t in wasm32-unknown-unknown wasm32v1-none; do
  if ! grep -qx "$t" <<<"$installed_targets"; then
    rustup target add "$t"
  fi
done
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
if [ "$FUZZ_SECONDS" -gt 0 ] && ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --root "$TOOLS"
fi
if ! cargo deny --version 2>/dev/null | grep -q "^cargo-deny $CARGO_DENY_VERSION\$"; then
  cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --root "$TOOLS"
fi
if ! rustup toolchain list | grep -q "^$MSRV-"; then
  rustup toolchain install "$MSRV" --profile minimal
fi
rustc --version
cargo --version
echo "tools in $TOOLS/bin; minimum Rust $MSRV"

# ---------------------------------------------------------------------------------------------------------------
step "cargo fmt --all -- --check (and fuzz/)"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "cargo deny check (deny.toml: licenses, bans, sources; advisories when the RustSec database is reachable)"
cargo deny --log-level error check licenses bans sources
if cargo deny --log-level error fetch >/dev/null 2>&1; then
  cargo deny --log-level error check advisories
else
  echo "SKIPPED: cargo deny check advisories — the RustSec advisory database (github.com/rustsec/advisory-db) cannot be fetched from this machine"
fi

step "cargo clippy --workspace --all-targets -- -D warnings (and the wasm crate without its mmdb feature)"
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p mirrorvane-wasm --no-default-features --lib -- -D warnings

# The two WASM builds are the only ones for their targets, so -D warnings here costs no rebuild elsewhere
# (with --target, RUSTFLAGS do not reach build scripts and proc macros).
step "selector without std: cargo build -p mirrorvane-selector --no-default-features --target wasm32v1-none"
RUSTFLAGS="${RUSTFLAGS:-} -D warnings" \
  cargo build -p mirrorvane-selector --no-default-features --target wasm32v1-none

step "cargo build -p mirrorvane-wasm --target wasm32-unknown-unknown --release"
RUSTFLAGS="${RUSTFLAGS:-} -D warnings" \
  cargo build -p mirrorvane-wasm --target wasm32-unknown-unknown --release
wasm="$TARGET_DIR/wasm32-unknown-unknown/release/mirrorvane_wasm.wasm"
printf 'mirrorvane_wasm.wasm: %s bytes raw (before wasm-bindgen; includes the release profile'"'"'s line tables)\n' \
  "$(wc -c <"$wasm")"

# `cargo test --workspace` followed by `cargo test -p mirrorvane-benches --benches` would compile the dependency
# graph twice: which proc-macro helpers are also runtime dependencies changes with the set of targets, and with it
# their profile and every hash above them (~80 s on 2 cores). `--all-targets` then `--doc` runs the same tests
# (plus every criterion benchmark once, in test mode: a quick check that the benchmarks work) on one build.
step "cargo test --workspace --all-targets (unit and integration tests; benchmarks once each in test mode)"
cargo test --workspace --all-targets

step "cargo test --workspace --doc (doc tests)"
cargo test --workspace --doc

step "tests of the Fedora-scale dataset ($FEDORA_SCALE)"
if [ -f "$FEDORA_SCALE/cache-fedora.proto.gz" ]; then
  MIRRORVANE_FEDORA_SCALE="$FEDORA_SCALE" cargo test -p mirrorvane-tests --test fedora_scale --test builder -- --ignored
else
  printf '\n*** SKIPPED: %s/cache-fedora.proto.gz not found. The tests that compare against MirrorManager'"'"'s\n' "$FEDORA_SCALE"
  printf '*** own Fedora-scale cache did not run. Set MIRRORVANE_FEDORA_SCALE to the dataset to run them. ***\n\n'
fi

# Instructions per request of a fixed request mix (locate + decide + render on the Fedora-scale snapshot, under
# callgrind) against the committed reference: growth beyond its margin fails (benches/gate/check.sh --update
# rewrites the reference). Uses the debug `mirrorvane` the workspace tests built to convert the dataset.
step "performance gate (benches/gate/check.sh: instructions per request against benches/gate/reference.toml)"
MIRRORVANE_FEDORA_SCALE="$FEDORA_SCALE" MIRRORVANE_BIN="$TARGET_DIR/debug/mirrorvane" bash benches/gate/check.sh

# A separate target directory: another toolchain's artifacts would evict the stable ones.
step "minimum Rust: cargo +$MSRV check --workspace --all-targets"
CARGO_TARGET_DIR="$TARGET_DIR/msrv" cargo "+$MSRV" check --workspace --all-targets --quiet

# ---------------------------------------------------------------------------------------------------------------
# The WASM package in real runtimes (wasm/worker/README.md). wasm-pack and worker-build fetch tools from GitHub, so
# the CLI is installed with cargo (into $TOOLS) and wasm-opt comes from npm (binaryen, pinned).
step "wasm worker: tools (wasm-bindgen-cli 0.2.130, npm ci in wasm/worker)"
command -v node >/dev/null 2>&1 || { echo "node (>= 20) is needed for the WASM worker tests" >&2; exit 1; }
node --version
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen 0.2.130" ]; then
  # Not --locked: unlocked is what is known to build on these machines. ~4 CPU-minutes, once per tools directory.
  cargo install wasm-bindgen-cli --version 0.2.130 --root "$TOOLS"
fi
(cd wasm/worker && npm ci --no-audit --no-fund --loglevel=error)

step "wasm worker: build (wasm-bindgen --target web, wasm-opt -Oz, size budget)"
# Same RUSTFLAGS as the wasm32 build step above, so cargo has nothing to rebuild.
RUSTFLAGS="${RUSTFLAGS:-} -D warnings" bash wasm/worker/build.sh

step "wasm worker: differential corpus, then Node, workerd and Deno tests (node --test)"
corpus="$TARGET_DIR/wasm-corpus"
cargo run --quiet -p mirrorvane-wasm --example corpus -- "$corpus"
(cd wasm/worker && MIRRORVANE_CORPUS_DIR="$corpus" node --test --test-reporter=spec test/*.test.mjs)

# ---------------------------------------------------------------------------------------------------------------
# The whole chain with Debian's dnf: an RPM repository built with rpmbuild and createrepo_c, three mirrors (fresh,
# one push behind, two behind), scan → crawl → snapshot → serve → an edge polling /snapshot, dnf with metalink= and
# mirrorlist=, a new push, and a client one push behind (tests/dnf/chain.sh). Once with the native edge, once
# with the WASM worker in workerd (built above) in its place.
dnf_tools=()
for tool in rpmbuild createrepo_c dnf python3 psql; do command -v "$tool" >/dev/null 2>&1 || dnf_tools+=("$tool"); done
for edge in native workerd; do
  step "dnf, the whole chain with the $edge edge (tests/dnf/chain.sh $edge)"
  if [ "${#dnf_tools[@]}" -eq 0 ]; then
    MIRRORVANE_BIN="$TARGET_DIR/debug/mirrorvane" MIRRORVANE_EDGE_BIN="$TARGET_DIR/debug/mirrorvane-edge" \
      bash tests/dnf/chain.sh "$edge"
  elif [ "${CI:-}" = "true" ]; then
    echo "missing ${dnf_tools[*]}: the dnf chain must run in CI (.ci/run installs rpm, createrepo-c and dnf)" >&2
    exit 1
  else
    printf '\n*** SKIPPED: the dnf chain (%s): %s not installed (apt install rpm createrepo-c dnf). ***\n\n' \
      "$edge" "${dnf_tools[*]}"
  fi
done

step "quick start of docs/quickstart.md, as written (tests/quickstart/run.sh)"
if [ "${#dnf_tools[@]}" -eq 0 ]; then
  MIRRORVANE_BIN="$TARGET_DIR/debug/mirrorvane" MIRRORVANE_EDGE_BIN="$TARGET_DIR/debug/mirrorvane-edge" \
    bash tests/quickstart/run.sh
elif [ "${CI:-}" = "true" ]; then
  echo "missing ${dnf_tools[*]}: the quick start's test must run in CI" >&2
  exit 1
else
  printf '\n*** SKIPPED: the quick start'"'"'s test: %s not installed. ***\n\n' "${dnf_tools[*]}"
fi

# The deployment: alerting rules (promtool check and unit tests), the units installed into a scratch root by
# deploy/install.sh and checked by systemd-analyze verify. SKIPPED without promtool or systemd-analyze, a failure
# under CI=true.
step "deployment: alert rules, install.sh, systemd-analyze verify (deploy/check.sh)"
MIRRORVANE_BIN_DIR="$TARGET_DIR/debug" bash deploy/check.sh

# ---------------------------------------------------------------------------------------------------------------
# The web UI in Debian's Chromium (headless), driven by playwright-core from npm (no browser download). The
# screenshots of the main pages are left in $TARGET_DIR/ui-screenshots (CI keeps them as artifacts).
step "web UI in Chromium (tests/browser, node --test)"
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium_bin" ]; then
  # The workspace tests above built it (a `cargo build -p` alone would unify features differently and rebuild).
  [ -x "$TARGET_DIR/debug/mirrorvane" ] || cargo build --quiet -p mirrorvane-backend --bin mirrorvane
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  (cd tests/browser && MIRRORVANE_BIN="$TARGET_DIR/debug/mirrorvane" CHROMIUM="$chromium_bin" \
    MIRRORVANE_SCREENSHOTS="$TARGET_DIR/ui-screenshots" node --test --test-reporter=spec ui.test.mjs)
  echo "screenshots: $TARGET_DIR/ui-screenshots"
elif [ "${CI:-}" = "true" ]; then
  echo "Chromium not found at $chromium_bin: the browser tests must run in CI (.ci/run installs it)" >&2
  exit 1
else
  printf '\n*** SKIPPED: the browser tests: no Chromium at %s (apt install chromium, or set CHROMIUM). ***\n\n' "$chromium_bin"
fi

# ---------------------------------------------------------------------------------------------------------------
if [ "$FUZZ_SECONDS" -gt 0 ]; then
  # Plain libFuzzer instrumentation works on stable; AddressSanitizer would need nightly flags (fuzz/README.md).
  # Smoke runs build unoptimised (--dev, with debug assertions): the instrumented build of the parsers' crates is
  # most of this step's time, and a few seconds per target find the shallow bugs either way. Longer campaigns:
  # cargo fuzz run TARGET --sanitizer none (optimised).
  for target in $(cargo fuzz list); do
    step "fuzz $target for ${FUZZ_SECONDS}s (cargo fuzz run $target --dev --sanitizer none)"
    args=(-max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0)
    if [ -f "fuzz/$target.dict" ]; then
      args+=(-dict="fuzz/$target.dict")
    fi
    log="$TARGET_DIR/fuzz-$target.log"
    mkdir -p "$TARGET_DIR"
    if cargo fuzz run "$target" --dev --sanitizer none -- "${args[@]}" >"$log" 2>&1; then
      grep -E '^#[0-9]+[[:space:]]+DONE|^Done [0-9]+ runs' "$log" || tail -n 3 "$log"
    else
      rc=$?
      echo "fuzz target $target failed (exit $rc); last lines of $log:"
      grep -vE '^#[0-9]+|^"|^###### ' "$log" | tail -n 80 || true
      exit "$rc"
    fi
  done
else
  step "fuzz: skipped (MIRRORVANE_FUZZ_SECONDS=0)"
fi

finish_step
printf '\n==== all checks passed in %dm%02ds ====\n' $(((SECONDS - START) / 60)) $(((SECONDS - START) % 60))
