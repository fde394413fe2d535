#!/usr/bin/env bash
# Checks what deploy/ ships, without touching the system:
#   1. promtool check rules / test rules on deploy/prometheus (the alerts parse, and fire exactly when their tests
#      say);
#   2. deploy/install.sh with every role into a temporary root (files where the units expect them, an existing
#      configuration file never overwritten);
#   3. systemd-analyze verify --root on the installed units (any warning is a failure: verify exits 0 on unknown
#      keys).
# Exits non-zero on any failure. A missing promtool or systemd-analyze is a failure under CI=true, a loud SKIPPED
# otherwise. MIRRORVANE_BIN_DIR names a directory holding built mirrorvane and mirrorvane-edge binaries
# (default: target/release or target/debug when both are there); without them verify checks the units against
# stand-in executables, which is all verify looks at (that ExecStart names an executable file).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
failures=0
skipped=0

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "FAILED: $*" >&2
  failures=$((failures + 1))
}
missing_tool() {
  if [ "${CI:-}" = "true" ]; then
    fail "$1 not found (needed under CI=true; $2)"
  else
    echo "##### SKIPPED: $1 not found ($2) #####" >&2
    skipped=$((skipped + 1))
  fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step "promtool check rules / test rules (deploy/prometheus)"
if command -v promtool >/dev/null; then
  promtool check rules "$here/prometheus/mirrorvane-alerts.yml" || fail "promtool check rules"
  # Rule files named in the test file are relative to the directory promtool runs in.
  (cd "$here/prometheus" && promtool test rules mirrorvane-alerts.test.yml) || fail "promtool test rules"
else
  missing_tool promtool "Debian/Ubuntu: apt-get install prometheus"
fi

step "deploy/install.sh --role backend --role crawler-a --role crawler-b --role edge --root TMP"
root=$tmp/root
mkdir -p "$root"
bin_dir=${MIRRORVANE_BIN_DIR:-}
if [ -z "$bin_dir" ]; then
  for d in "$repo/target/release" "$repo/target/debug"; do
    if [ -x "$d/mirrorvane" ] && [ -x "$d/mirrorvane-edge" ]; then
      bin_dir=$d
      break
    fi
  done
fi
if [ -z "$bin_dir" ]; then
  bin_dir=$tmp/stand-ins
  mkdir -p "$bin_dir"
  for b in mirrorvane mirrorvane-edge; do
    printf '#!/bin/sh\necho "stand-in for %s" >&2\nexit 1\n' "$b" >"$bin_dir/$b"
    chmod 0755 "$bin_dir/$b"
  done
  echo "(no built binaries: stand-in executables for /usr/bin/mirrorvane and /usr/bin/mirrorvane-edge)"
else
  echo "(binaries from $bin_dir)"
fi
roles=(--role backend --role crawler-a --role crawler-b --role edge)
if "$here/install.sh" "${roles[@]}" --root "$root" --bin-dir "$bin_dir" >"$tmp/install.log" 2>&1; then
  for f in etc/systemd/system/mirrorvane-serve.service etc/systemd/system/mirrorvane-scan.service \
    etc/systemd/system/mirrorvane-scan.timer etc/systemd/system/mirrorvane-snapshot.service \
    etc/systemd/system/mirrorvane-snapshot.timer etc/systemd/system/mirrorvane-crawl.service \
    etc/systemd/system/mirrorvane-crawl-a.timer etc/systemd/system/mirrorvane-crawl-b.timer \
    etc/systemd/system/mirrorvane-edge.service etc/mirrorvane/mirrorvane.env etc/mirrorvane/edge.env \
    etc/mirrorvane/scan.toml etc/logrotate.d/mirrorvane-edge usr/bin/mirrorvane usr/bin/mirrorvane-edge \
    usr/share/doc/mirrorvane/deployment.md usr/share/doc/mirrorvane/operations.md; do
    [ -f "$root/$f" ] || fail "install.sh did not install /$f"
  done
  [ "$(stat -c %a "$root/etc/mirrorvane/mirrorvane.env")" = 640 ] || fail "/etc/mirrorvane/mirrorvane.env is not 0640"
  grep -q '^not run: systemctl' "$tmp/install.log" || fail "install.sh --root TMP did not skip systemctl"
  # A second run keeps edited configuration.
  echo "# edited" >>"$root/etc/mirrorvane/edge.env"
  if "$here/install.sh" --role edge --root "$root" >"$tmp/install2.log" 2>&1; then
    tail -n 1 "$root/etc/mirrorvane/edge.env" | grep -q '^# edited$' || fail "install.sh overwrote /etc/mirrorvane/edge.env"
  else
    cat "$tmp/install2.log" >&2
    fail "install.sh (second run)"
  fi
  if "$here/install.sh" --role nonsense --root "$root" >/dev/null 2>&1; then
    fail "install.sh accepted an unknown role"
  fi
  echo "ok: $(grep -c '^installed' "$tmp/install.log") files installed; an existing configuration file is kept"
else
  cat "$tmp/install.log" >&2
  fail "install.sh"
fi

step "systemd-analyze verify --root TMP (the installed units)"
if command -v systemd-analyze >/dev/null; then
  units_dir=
  for d in /usr/lib/systemd/system /lib/systemd/system; do
    if [ -f "$d/sysinit.target" ]; then
      units_dir=$d
      break
    fi
  done
  if [ -z "$units_dir" ]; then
    missing_tool "systemd's own units (sysinit.target)" "verify resolves the units' dependencies against them"
  else
    # What verify resolves inside the root: systemd's own units (targets the units are ordered against) and
    # /bin/kill of ExecReload.
    mkdir -p "$root/usr/lib/systemd"
    cp -a "$units_dir" "$root/usr/lib/systemd/system"
    install -m 0755 "$(type -P kill)" "$root/usr/bin/kill"
    [ -e "$root/bin" ] || ln -s usr/bin "$root/bin"
    units=()
    for u in "$root"/etc/systemd/system/mirrorvane-*; do
      units+=("/etc/systemd/system/$(basename "$u")")
    done
    if out=$(systemd-analyze verify --root="$root" "${units[@]}" 2>&1) && [ -z "$out" ]; then
      echo "ok: ${#units[@]} units verified, no warnings"
    else
      printf '%s\n' "$out" >&2
      fail "systemd-analyze verify"
    fi
  fi
else
  missing_tool systemd-analyze "part of systemd"
fi

echo
if [ "$failures" -gt 0 ]; then
  echo "deploy/check.sh: $failures check(s) FAILED" >&2
  exit 1
fi
if [ "$skipped" -gt 0 ]; then
  echo "deploy/check.sh: passed, but $skipped check(s) SKIPPED (see above)"
else
  echo "deploy/check.sh: all checks passed"
fi
