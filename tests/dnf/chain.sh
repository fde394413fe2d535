#!/usr/bin/env bash
# The whole chain with Debian's real dnf client:
#
#   rpmbuild + createrepo_c → primary tree (4 pushes) → 3 mirrors on 127.0.0.1 (fresh, one push behind, two
#   pushes behind) → mirrorvane scan → crawl → snapshot (signed) → serve → edge polling /snapshot → dnf
#
# and checks that dnf's makecache, repoquery and a package download work with `metalink=` and with
# `mirrorlist=`; that the mirror two pushes behind is never offered nor touched by dnf; and that after a new push
# (re-scan, re-crawl, re-snapshot, the edge's reload) a client whose cache is one push old keeps working through
# the metalink's alternates — even when the only mirror left serves the previous push.
#
# Usage: tests/dnf/chain.sh native|workerd
#   native   the native edge (mirrorvane-edge) polls the backend's /snapshot
#   workerd  the WASM worker (wasm/worker, built by wasm/worker/build.sh, npm ci done) in workerd, with
#            SNAPSHOT_URL pointing at the same /snapshot, in place of the native edge
# Environment:
#   MIRRORVANE_BIN, MIRRORVANE_EDGE_BIN   the binaries (default target/debug/mirrorvane, …-edge)
#   MIRRORVANE_TEST_POSTGRES              the PostgreSQL server a throw-away database is made on
#                                         (default postgres://postgres@127.0.0.1:5432/test)
#   KEEP=1                                keep the work directory (logs, trees, dnf roots) for a look
#   PAUSE_ON_FAIL=1                       on a failure, keep the servers running until interrupted
# Needs: rpmbuild (Debian `rpm`), createrepo_c (`createrepo-c`), dnf, rsync, python3 (the mirrors' HTTP
# servers), curl, psql; .ci/run installs them. Everything binds 127.0.0.1 on ports the OS picks.
set -euo pipefail

edge_kind=${1:-}
case "$edge_kind" in
  native | workerd) ;;
  *) echo "usage: $0 native|workerd" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
bin=${MIRRORVANE_BIN:-$target/debug/mirrorvane}
edge_bin=${MIRRORVANE_EDGE_BIN:-$target/debug/mirrorvane-edge}
pg=${MIRRORVANE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
for tool in rpmbuild createrepo_c dnf rsync python3 curl psql sha256sum; do
  command -v "$tool" >/dev/null || { echo "$tool is needed (see the header of $0)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "no $bin: cargo build -p mirrorvane-backend --bin mirrorvane" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mirrorvane-dnf-$edge_kind.XXXXXX")
dbname="mirrorvane_dnf_${edge_kind}_$$"
db="${pg%/*}/$dbname"
pids=()

say() { printf '[dnf chain %s] %s\n' "$edge_kind" "$*"; }

cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] && { echo "---- ${f##*/} (last lines)"; tail -n 25 "$f"; }
    done
  fi
  psql -q "$pg" -c "DROP DATABASE IF EXISTS $dbname" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*" >&2
  # PAUSE_ON_FAIL=1: the servers keep running for a look (work directory and addresses above) until Ctrl-C.
  if [ -n "${PAUSE_ON_FAIL:-}" ]; then say "paused; work directory $work"; sleep infinity; fi
  exit 1
}

# Waits up to $1 seconds for the command after it to succeed.
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for: $*"
    sleep 0.2
  done
}

# Starts a server in the background with its output in $work/$1.log and prints the "http://…" it listens on.
# $2 is the pattern of the line that names the address.
listening() {
  local log="$work/$1.log" deadline=$((SECONDS + 30))
  until grep -q "$2" "$log" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$1 did not start"
    kill -0 "${pids[-1]}" 2>/dev/null || fail "$1 exited"
    sleep 0.1
  done
  grep -m1 "$2" "$log" | grep -o -m1 'http://127\.0\.0\.1:[0-9]*'
}

mirrorvane() { "$bin" --database "$db" "$@"; }

psql -q "$pg" -c "CREATE DATABASE $dbname" || fail "cannot create a database on $pg (PostgreSQL running?)"

# ---- the primary tree: one repository, one more build of the package per push ----------------------------------
primary="$work/primary"
os="$primary/pub/fedora/linux/releases/41/Everything/x86_64/os"
now=$(date +%s)
# Pushes 1–3 are 3, 2 and 1 hours old; push 4 comes later, "now". After each, the scan.
# shellcheck source=tests/dnf/repo.sh
. "$root/tests/dnf/repo.sh"
push() {
  add_push "$primary/pub/fedora/linux" "$1" "$2" "$work" || fail "push $1: $(cat "$work/push.log")"
  sha256sum "$os/repodata/repomd.xml" | cut -d' ' -f1 >"$work/repomd-$1.sha256"
  mirrorvane scan --category "Fedora Linux" --path "$primary/pub/fedora/linux" >>"$work/scan.log" 2>&1 ||
    fail "scan after push $1"
}
sync_mirror() { rsync -a --delete "$primary/" "$work/mirrors/$1/"; }

# ---- three mirrors: HTTP servers on 127.0.0.1 ----------------------------------------------------------------
declare -A mirror_url
for m in fresh behind stale; do
  mkdir -p "$work/mirrors/$m"
  python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/mirrors/$m" >"$work/mirror-$m.log" 2>&1 &
  pids+=($!)
  mirror_url[$m]=$(listening "mirror-$m" 'Serving HTTP')
done
say "mirrors: fresh ${mirror_url[fresh]}, one push behind ${mirror_url[behind]}, two behind ${mirror_url[stale]}"

# ---- the network's inventory ------------------------------------------------------------------------------------
# The fresh mirror's weight makes it first in (nearly) every answer, so the metalink client's cache holds push 3
# before push 4 comes; the stale one's weight would make it likely, were it offered.
declare -A bandwidth=([fresh]=10000 [behind]=1 [stale]=1000)
{
  cat <<EOF
[[product]]
name = "Fedora"

[[category]]
name = "Fedora Linux"
product = "Fedora"
topdir = "pub/fedora/linux"

[[arch]]
name = "x86_64"

[[site]]
name = "dnf chain"
EOF
  for m in fresh behind stale; do
    cat <<EOF

[[site.host]]
name = "$m.mirror.test"
country = "US"
bandwidth = ${bandwidth[$m]}

[[site.host.category]]
name = "Fedora Linux"
urls = ["${mirror_url[$m]}/pub/fedora/linux"]
EOF
  done
} >"$work/inventory.toml"
mirrorvane apply -f "$work/inventory.toml" >"$work/apply.log" 2>&1 || fail "apply the inventory"

push 1 $((now - 3 * 3600))
sync_mirror stale
push 2 $((now - 2 * 3600))
sync_mirror behind
push 3 $((now - 3600))
sync_mirror fresh
say "primary tree pushed 3 times and scanned; mirrors synced to pushes 3, 2 and 1"

mirrorvane crawl --request-timeout 5 --host-timeout 120 >"$work/crawl.log" 2>&1 || fail "crawl"
grep -E '^crawl' "$work/crawl.log" | tail -n 1 || true

# ---- snapshot, backend, edge ------------------------------------------------------------------------------------
mirrorvane keygen -o "$work/snapshot.key" >"$work/snapshot.pub" 2>"$work/keygen.log" || fail "keygen"
head -c 24 /dev/urandom | base64 >"$work/snapshot.token"
mirrorvane snapshot -o "$work/snapshot" --sign-key "$work/snapshot.key" >"$work/snapshot.log" 2>&1 || fail "snapshot"
mirrorvane serve --listen 127.0.0.1:0 --snapshot "$work/snapshot" --snapshot-token-file "$work/snapshot.token" \
  >"$work/serve.log" 2>&1 &
pids+=($!)
backend=$(listening serve 'Listening on')

if [ "$edge_kind" = native ]; then
  "$edge_bin" --snapshot "$backend/snapshot" --public-key "$work/snapshot.pub" \
    --snapshot-token-file "$work/snapshot.token" --poll-interval 1 --listen 127.0.0.1:0 \
    --geoip "$root/geo/testdata/GeoIP2-Country-Test.mmdb" \
    --access-log "$work/access.log" >"$work/edge.log" 2>&1 &
else
  node "$root/tests/dnf/workerd-edge.mjs" --snapshot-url "$backend/snapshot" \
    --public-key-file "$work/snapshot.pub" --token-file "$work/snapshot.token" --dir "$work/workerd" \
    >"$work/edge.log" 2>&1 &
fi
pids+=($!)
edge=$(listening edge 'Listening on')
until_ok 60 curl -sf "$edge/healthz"
say "backend $backend, $edge_kind edge $edge: $(curl -s "$edge/healthz")"

# ---- what the edge answers ------------------------------------------------------------------------------------
query="repo=fedora-41&arch=x86_64"
metalink=$(curl -sf "$edge/metalink?$query") || fail "GET /metalink"
mirrorlist=$(curl -sf "$edge/mirrorlist?$query") || fail "GET /mirrorlist"
for m in fresh behind; do
  grep -qF "${mirror_url[$m]}/pub/fedora/linux/releases/41/Everything/x86_64/os/repodata/repomd.xml" <<<"$metalink" ||
    fail "the metalink lacks the $m mirror:"$'\n'"$metalink"
  grep -qxF "${mirror_url[$m]}/pub/fedora/linux/releases/41/Everything/x86_64/os/" <<<"$mirrorlist" ||
    fail "the mirrorlist lacks the $m mirror:"$'\n'"$mirrorlist"
done
! grep -qF "${mirror_url[stale]}" <<<"$metalink$mirrorlist" || fail "the two-pushes-behind mirror is offered"
grep -qF "$(cat "$work/repomd-3.sha256")" <<<"$metalink" || fail "the metalink lacks push 3's repomd.xml hash"
grep -qF "$(cat "$work/repomd-2.sha256")" <<<"$metalink" || fail "the metalink lacks push 2's hash (alternates)"

# ---- dnf ----------------------------------------------------------------------------------------------------------
# One client = its own install root, dnf.conf and repository file; no system repository is read.
client() {
  local name=$1 kind=$2 dir="$work/client-$1"
  mkdir -p "$dir/repos.d" "$dir/root" "$dir/downloads"
  cat >"$dir/dnf.conf" <<EOF
[main]
gpgcheck=0
skip_if_unavailable=False
keepcache=1
install_weak_deps=0
EOF
  printf '[chain]\nname=Mirrorvane dnf chain\n%s=%s/%s?%s\ngpgcheck=0\n' "$kind" "$edge" "$kind" "$query" \
    >"$dir/repos.d/chain.repo"
}
dnf_as() {
  local name=$1 dir="$work/client-$1"
  shift
  dnf -c "$dir/dnf.conf" --installroot="$dir/root" --setopt=reposdir="$dir/repos.d" --releasever=41 -y "$@" \
    >>"$work/dnf-$name.log" 2>&1
}
stale_requests() { grep -c '"GET \|"HEAD ' "$work/mirror-stale.log" || true; }
stale_before=$(stale_requests)

# makecache, repoquery and a download, as one client of each kind. The newest package a client sees is that of
# the push whose metadata it got: the fresh mirror's (push $1), or the one-push-behind mirror's, which dnf takes
# too (through the metalink's alternates; a mirrorlist client trusts any mirror). Older never.
newest_seen() { grep -o 'mirrorvane-hello-1\.0-[0-9]*' "$1" | sort -V | tail -n 1 | sed 's/.*-//'; }
check_client() {
  local name=$1 newest=$2 dir="$work/client-$1"
  dnf_as "$name" makecache || fail "dnf makecache ($name)"
  dnf -c "$dir/dnf.conf" --installroot="$dir/root" --setopt=reposdir="$dir/repos.d" --releasever=41 -q \
    repoquery --qf '%{name}-%{version}-%{release}' mirrorvane-hello >"$dir/repoquery.out" \
    2>>"$work/dnf-$name.log" || fail "dnf repoquery ($name)"
  local seen
  seen=$(newest_seen "$dir/repoquery.out")
  [ "$seen" = "$newest" ] || [ "$seen" = $((newest - 1)) ] ||
    fail "repoquery ($name) lists mirrorvane-hello up to 1.0-${seen:-nothing}, not push $newest's or the one before"
  dnf_as "$name" install --downloadonly --downloaddir="$dir/downloads" "mirrorvane-hello-1.0-$seen" ||
    fail "dnf download ($name)"
  cmp -s "$dir/downloads/mirrorvane-hello-1.0-$seen.noarch.rpm" \
    "$os/Packages/m/mirrorvane-hello-1.0-$seen.noarch.rpm" || fail "the package $name downloaded differs"
  say "$name: makecache, repoquery (newest 1.0-$seen) and download passed"
}
client ml metalink
client mlist mirrorlist
check_client ml 3
check_client mlist 3
cached_push() {
  local f
  f=$(find "$work/client-$1/root/var/cache" -path '*/repodata/repomd.xml' | head -n 1)
  for n in 1 2 3 4; do
    [ -n "$f" ] && [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "$(cat "$work/repomd-$n.sha256")" ] && echo "$n"
  done
  return 0
}
[ "$(cached_push ml)" = 3 ] || fail "the metalink client's cache holds push '$(cached_push ml)', not 3"
[ "$(stale_requests)" = "$stale_before" ] || fail "dnf sent requests to the two-pushes-behind mirror"
say "the two-pushes-behind mirror was neither offered nor asked anything by dnf"

# ---- a new push: re-scan, re-crawl, re-snapshot, the edge reloads --------------------------------------------
generation() { curl -s "$edge/healthz" | sed -n 's/.*generation=\([0-9]*\).*/\1/p'; }
before=$(generation)
# `behind` catches up with push 3 just before push 4, so it stays one behind; `stale` keeps push 1.
sync_mirror behind
push 4 "$now"
sync_mirror fresh
mirrorvane crawl --request-timeout 5 --host-timeout 120 >>"$work/crawl.log" 2>&1 || fail "crawl after push 4"
mirrorvane snapshot -o "$work/snapshot" --sign-key "$work/snapshot.key" >>"$work/snapshot.log" 2>&1 ||
  fail "snapshot after push 4"
newer() { [ "$(generation)" != "$before" ]; }
until_ok 60 newer
metalink=$(curl -sf "$edge/metalink?$query") || fail "GET /metalink after push 4"
grep -qF "$(cat "$work/repomd-4.sha256")" <<<"$metalink" || fail "the metalink lacks push 4's hash"
grep -qF "$(cat "$work/repomd-3.sha256")" <<<"$metalink" || fail "the metalink lacks push 3's hash (alternates)"
say "push 4 scanned, crawled and published; the edge reloaded ($before → $(generation))"

# The metalink client's cache holds push 3. With the fresh mirror gone, the only mirror left serves push 3: dnf
# takes its repomd.xml because the metalink lists push 3's hashes as an alternate, and the old cache keeps working.
kill "${pids[0]}" # the fresh mirror
until_ok 10 bash -c "! curl -s ${mirror_url[fresh]}/"
stale_before=$(stale_requests)
behind_repomd() { grep -c '"GET /pub/fedora/linux/releases/41/Everything/x86_64/os/repodata/repomd.xml' \
  "$work/mirror-behind.log" || true; }
behind_before=$(behind_repomd)
dnf_as ml makecache --setopt=metadata_expire=0 || fail "dnf makecache with a one-push-old cache"
dnf_as ml repoquery --setopt=metadata_expire=0 --qf '%{name}-%{version}-%{release}' mirrorvane-hello ||
  fail "dnf repoquery with a one-push-old cache"
[ "$(cached_push ml)" = 3 ] || fail "the client's cache now holds push '$(cached_push ml)', not 3"
dnf_as ml install --downloadonly --downloaddir="$work/client-ml/downloads-after" mirrorvane-hello-1.0-3 ||
  fail "dnf download with a one-push-old cache"
[ -f "$work/client-ml/downloads-after/mirrorvane-hello-1.0-3.noarch.rpm" ] ||
  fail "no package downloaded with a one-push-old cache"
[ "$(stale_requests)" = "$stale_before" ] || fail "dnf sent requests to the two-pushes-behind mirror"
[ "$(behind_repomd)" -gt "$behind_before" ] ||
  fail "dnf did not fetch repomd.xml from the one-push-behind mirror (nothing tested the alternates)"
say "a client one push behind kept working through the alternates (makecache, repoquery, download)"
say "PASSED"
