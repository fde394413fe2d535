#!/usr/bin/env bash
# Runs the quick start of docs/quickstart.md end to end: the command block between its `quickstart:begin` and
# `quickstart:end` markers, as written, with only what a test must change substituted — the ports (8000, 8080,
# 8090 become ports the OS picked), the database's name (a throw-away one, dropped afterwards) and the server
# (MIRRORVANE_TEST_POSTGRES's, when set). It checks that the block has fewer than ten commands, that every
# command succeeds, that the metalink lists the mirror with the scanned repomd.xml's checksum, and that Debian's
# dnf installs from it (makecache, repoquery, a download).
#
# Usage: tests/quickstart/run.sh
#   MIRRORVANE_BIN, MIRRORVANE_EDGE_BIN   the binaries (default target/debug/mirrorvane, …-edge)
#   MIRRORVANE_TEST_POSTGRES              the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test)
#   KEEP=1                                keep the work directory
# Needs what the quick start needs (psql, rsync, python3, curl) and, for its primary tree and the final check,
# rpmbuild, createrepo_c and dnf.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bin=${MIRRORVANE_BIN:-$target/debug/mirrorvane}
edge_bin=${MIRRORVANE_EDGE_BIN:-$target/debug/mirrorvane-edge}
pg=${MIRRORVANE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
doc="$root/docs/quickstart.md"
for tool in psql rsync python3 curl rpmbuild createrepo_c dnf; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (see the header of $0)" >&2; exit 1; }
done
[ -x "$bin" ] && [ -x "$edge_bin" ] || { echo "build the binaries first: $bin, $edge_bin" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mirrorvane-quickstart.XXXXXX")
dbname="mirrorvane_quickstart_$$"
group=""
say() { printf '[quick start] %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
cleanup() {
  local rc=$?
  [ -n "$group" ] && kill -- "-$group" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    for f in "$work"/run/*.log "$work"/output "$work"/dnf.log; do
      [ -f "$f" ] && { echo "---- ${f#"$work"/} (last lines)"; tail -n 25 "$f"; }
    done
  fi
  psql -q "$pg" -c "DROP DATABASE IF EXISTS $dbname" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT

# ---- the block, as the reader sees it ------------------------------------------------------------------------
block=$(awk '/<!-- quickstart:end -->/ {on = 0} on && !/^```/ {print} /<!-- quickstart:begin -->/ {on = 1}' "$doc")
[ -n "$block" ] || fail "no quickstart:begin/end block in $doc"
# Commands: the lines outside here-documents.
commands=$(awk '
  heredoc != "" { if ($0 == heredoc) heredoc = ""; next }
  NF { n++ }
  match($0, /<<-?'"'"'?[A-Za-z_]+'"'"'?/) { heredoc = substr($0, RSTART, RLENGTH); gsub(/[<'"'"'-]/, "", heredoc) }
  END { print n }' <<<"$block")
[ "$commands" -lt 10 ] || fail "the quick start has $commands commands; it promises fewer than ten"
say "docs/quickstart.md: $commands commands"

# ---- what the reader brings: a primary tree, a GeoIP database, the binaries on PATH -----------------------------
# shellcheck source=tests/dnf/repo.sh
. "$root/tests/dnf/repo.sh"
primary="$work/primary"
add_push "$primary/pub/fedora/linux" 1 $(($(date +%s) - 600)) "$work" || fail "building the tree: $(cat "$work/push.log")"
repomd_sha=$(sha256sum "$primary/pub/fedora/linux/releases/41/Everything/x86_64/os/repodata/repomd.xml" | cut -d' ' -f1)
mkdir -p "$work/bin" "$work/run"
ln -s "$bin" "$work/bin/mirrorvane"
ln -s "$edge_bin" "$work/bin/mirrorvane-edge"

# ---- what a test changes: ports, the database ------------------------------------------------------------------
# Three ports the OS picks, held at once so that they differ (released just before the block binds them).
read -r mirror_port edge_port backend_port < <(python3 -c '
import socket
held = [socket.socket() for _ in range(3)]
for s in held: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))')
server="${pg%/*}"
script=$(sed -e "s#postgres://postgres@127\.0\.0\.1:5432#$server#g" \
  -e "s#/mirrorvane\$#/$dbname#; s#DATABASE mirrorvane'#DATABASE $dbname'#" \
  -e "s#127\.0\.0\.1:8000#127.0.0.1:$mirror_port#g; s#http\.server 8000 #http.server $mirror_port #" \
  -e "s#127\.0\.0\.1:8090#127.0.0.1:$backend_port#g; s#mirrorvane serve #mirrorvane serve --listen 127.0.0.1:$backend_port #" \
  -e "s#127\.0\.0\.1:8080#127.0.0.1:$edge_port#g" <<<"$block")
! grep -Eq '(:|http\.server )(8000|8080|8090)([^0-9]|$)|/mirrorvane$' <<<"$script" ||
  fail "a port or the database name was left unsubstituted:"$'\n'"$script"
printf 'set -euo pipefail\n%s\n' "$script" >"$work/quickstart.sh"

# ---- run it ------------------------------------------------------------------------------------------------------
say "running the block (ports $mirror_port, $backend_port, $edge_port; database $dbname)"
(cd "$work/run" && PATH="$work/bin:$PATH" PRIMARY="$primary" GEOIP="$root/geo/testdata/GeoIP2-Country-Test.mmdb" \
  exec setsid bash "$work/quickstart.sh") >"$work/output" 2>&1 &
group=$!
wait "$group" || fail "the quick start failed (exit $?)"
grep -qF "http://127.0.0.1:$mirror_port/fedora/linux/releases/41/Everything/x86_64/os/repodata/repomd.xml" \
  "$work/output" || fail "the metalink does not list the mirror"
grep -qF "$repomd_sha" "$work/output" || fail "the metalink lacks the scanned repomd.xml's checksum"
say "the metalink lists the mirror with the scanned repomd.xml's checksum"

# ---- and dnf uses it -----------------------------------------------------------------------------------------------
mkdir -p "$work/dnf/repos.d" "$work/dnf/root"
printf '[quickstart]\nname=quick start\nmetalink=http://127.0.0.1:%s/metalink?repo=fedora-41&arch=x86_64\ngpgcheck=0\n' \
  "$edge_port" >"$work/dnf/repos.d/quickstart.repo"
dnf_q() {
  dnf --installroot="$work/dnf/root" --setopt=reposdir="$work/dnf/repos.d" --releasever=41 -y "$@"
}
dnf_q makecache >>"$work/dnf.log" 2>&1 || fail "dnf makecache"
dnf_q -q repoquery --qf '%{name}-%{version}-%{release}' mirrorvane-hello 2>>"$work/dnf.log" |
  grep -qx 'mirrorvane-hello-1.0-1' || fail "dnf repoquery"
dnf_q install --downloadonly --downloaddir="$work/dnf/downloads" mirrorvane-hello >>"$work/dnf.log" 2>&1 ||
  fail "dnf download"
[ -f "$work/dnf/downloads/mirrorvane-hello-1.0-1.noarch.rpm" ] || fail "no package downloaded"
say "dnf: makecache, repoquery and a download through the quick start's edge passed"
say "PASSED"
