#!/usr/bin/env bash
# Compares this working tree's criterion benchmarks with main's, as criterion's named baselines.
#
# 1. main (or BASE) is checked out, detached, in a git worktree at $CARGO_TARGET_DIR/compare-base (made on first
#    use, moved to the base's current commit after that) and its benchmarks run with `--save-baseline main`;
# 2. this tree's benchmarks run with `--baseline-lenient main`: criterion prints every benchmark's change against
#    main's figure (a benchmark main does not have is measured without comparison).
# Both runs keep their figures in one place, this tree's $CARGO_TARGET_DIR/criterion (CRITERION_HOME), so
# `--baseline main` works in later plain `cargo bench` runs too. They do not share a cargo target directory: the
# worktree builds into its own (compare-base/target; the first run compiles everything there, later runs only
# what changed). Cargo names a workspace's artifacts by paths relative to the workspace root and judges them
# fresh by modification times, so two checkouts building into one directory silently run each other's code.
#
# Usage: benches/compare.sh [CARGO_BENCH_ARGS...] [-- CRITERION_ARGS...]
#   benches/compare.sh --bench selector -- mixed --warm-up-time 1 --measurement-time 3
#   benches/compare.sh                               every benchmark of mirrorvane-benches, criterion's defaults
# Environment:
#   BASE=REF      compare with another branch, tag or commit (default main); the baseline is named after it
#   SKIP_BASE=1   keep the baseline already saved (re-run only this tree's side, e.g. after another change)
#   CARGO_TARGET_DIR  honoured (default ./target)
# Remove the worktree with `git worktree remove $CARGO_TARGET_DIR/compare-base`.
#
# The two runs are minutes apart on the same machine; on a noisy one (±10 % between identical builds here), run
# the comparison twice and trust what both rounds agree on, or count instructions (gate/check.sh).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

cargo_args=() criterion_args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then
    shift
    criterion_args=("$@")
    break
  fi
  cargo_args+=("$1")
  shift
done

base=${BASE:-main}
name=$(printf '%s' "$base" | tr -c 'A-Za-z0-9._-' '_')
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in /*) ;; *) target_dir=$root/$target_dir ;; esac
worktree=$target_dir/compare-base
export CRITERION_HOME=$target_dir/criterion

if [ -z "${SKIP_BASE:-}" ]; then
  commit=$(git rev-parse --verify "$base^{commit}")
  if [ -e "$worktree/.git" ]; then
    git -C "$worktree" checkout --quiet --detach "$commit"
  else
    mkdir -p "$target_dir"
    git worktree add --quiet --detach "$worktree" "$commit"
  fi
  printf '==== %s (%s): cargo bench -p mirrorvane-benches %s -- --save-baseline %s %s\n' \
    "$base" "$(git -C "$worktree" log -1 --format='%h %s' | cut -c1-60)" "${cargo_args[*]:-}" "$name" "${criterion_args[*]:-}"
  (cd "$worktree" && CARGO_TARGET_DIR=$worktree/target \
    cargo bench -p mirrorvane-benches "${cargo_args[@]}" -- --save-baseline "$name" "${criterion_args[@]}")
fi

printf '==== this tree against %s: cargo bench -p mirrorvane-benches %s -- --baseline-lenient %s %s\n' \
  "$base" "${cargo_args[*]:-}" "$name" "${criterion_args[*]:-}"
CARGO_TARGET_DIR=$target_dir cargo bench -p mirrorvane-benches "${cargo_args[@]}" -- --baseline-lenient "$name" "${criterion_args[@]}"
