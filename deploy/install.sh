#!/usr/bin/env bash
# Installs Mirrorvane's systemd units and a configuration skeleton for one or more host roles (docs/deployment.md).
#
#   deploy/install.sh --role backend [--role crawler-a|crawler-b|edge …] [--root DIR] [--bin-dir DIR] [--no-enable]
#
# Units go to DIR/etc/systemd/system and are replaced on every run (local changes belong in drop-ins:
# `systemctl edit UNIT`). Configuration files under DIR/etc are created only when missing: an existing one is
# never overwritten. With --root other than / (a test, an image being built) systemctl is not run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")

usage() {
  cat <<'EOF'
Usage: deploy/install.sh --role ROLE [--role ROLE …] [--root DIR] [--bin-dir DIR] [--no-enable]

Roles:
  backend     mirrorvane-serve.service, mirrorvane-scan.{service,timer}, mirrorvane-snapshot.{service,timer}
  crawler-a   mirrorvane-crawl.service with mirrorvane-crawl-a.timer (0:00 and 12:00)
  crawler-b   mirrorvane-crawl.service with mirrorvane-crawl-b.timer (2:00 and 14:00)
  edge        mirrorvane-edge.service, /etc/mirrorvane/edge.env, /etc/logrotate.d/mirrorvane-edge

Options:
  --root DIR     install below DIR instead of / (systemctl is then not run)
  --bin-dir DIR  also install the binaries the roles need (mirrorvane, mirrorvane-edge) from DIR to /usr/bin
  --no-enable    do not run systemctl daemon-reload and enable
EOF
}

die() {
  echo "install.sh: $*" >&2
  exit 2
}

roles=()
root=/
bin_dir=
enable=1
while [ $# -gt 0 ]; do
  case $1 in
    --role)
      [ $# -ge 2 ] || die "--role needs a value"
      case $2 in
        backend | crawler-a | crawler-b | edge) roles+=("$2") ;;
        *) die "unknown role '$2' (backend, crawler-a, crawler-b, edge)" ;;
      esac
      shift 2
      ;;
    --root)
      [ $# -ge 2 ] || die "--root needs a directory"
      root=$2
      shift 2
      ;;
    --bin-dir)
      [ $# -ge 2 ] || die "--bin-dir needs a directory"
      bin_dir=$2
      shift 2
      ;;
    --no-enable)
      enable=0
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die "unknown argument '$1'"
      ;;
  esac
done
[ ${#roles[@]} -gt 0 ] || {
  usage >&2
  die "name at least one --role"
}
[ -d "$root" ] || die "--root $root is not a directory"
root=$(cd "$root" && pwd)
if [ "$root" = / ]; then
  prefix=
  [ "$(id -u)" -eq 0 ] || die "installing into / needs root (or give --root DIR)"
else
  prefix=$root
  enable=0
fi

has_role() {
  local r
  for r in "${roles[@]}"; do
    [ "$r" = "$1" ] && return 0
  done
  return 1
}

units=()
enable_units=()
configs=() # source:destination:mode
binaries=()
if has_role backend; then
  units+=(mirrorvane-serve.service mirrorvane-scan.service mirrorvane-scan.timer mirrorvane-snapshot.service
    mirrorvane-snapshot.timer)
  enable_units+=(mirrorvane-serve.service mirrorvane-scan.timer mirrorvane-snapshot.timer)
  configs+=("systemd/mirrorvane.env:/etc/mirrorvane/mirrorvane.env:0640" "config/scan.toml:/etc/mirrorvane/scan.toml:0644")
  binaries+=(mirrorvane)
fi
for crawler in a b; do
  if has_role "crawler-$crawler"; then
    units+=(mirrorvane-crawl.service "mirrorvane-crawl-$crawler.timer")
    enable_units+=("mirrorvane-crawl-$crawler.timer")
    configs+=("systemd/mirrorvane.env:/etc/mirrorvane/mirrorvane.env:0640")
    binaries+=(mirrorvane)
  fi
done
if has_role crawler-a && has_role crawler-b; then
  echo "note: both crawler timers on one host: it crawls four times a day"
fi
if has_role edge; then
  units+=(mirrorvane-edge.service)
  enable_units+=(mirrorvane-edge.service)
  configs+=("systemd/mirrorvane-edge.env:/etc/mirrorvane/edge.env:0640" "logrotate/mirrorvane-edge:/etc/logrotate.d/mirrorvane-edge:0644")
  binaries+=(mirrorvane-edge)
fi

# Each file once, in order.
unique() { printf '%s\n' "$@" | awk '!seen[$0]++'; }
mapfile -t units < <(unique "${units[@]}")
mapfile -t configs < <(unique "${configs[@]}")
mapfile -t binaries < <(unique "${binaries[@]}")

install -d -m 0755 "$prefix/etc/systemd/system" "$prefix/etc/mirrorvane" "$prefix/usr/share/doc/mirrorvane"
for unit in "${units[@]}"; do
  install -m 0644 "$here/systemd/$unit" "$prefix/etc/systemd/system/$unit"
  echo "installed /etc/systemd/system/$unit"
done
for entry in "${configs[@]}"; do
  IFS=: read -r source destination mode <<<"$entry"
  if [ -e "$prefix$destination" ]; then
    echo "kept      $destination (exists; compare with deploy/$source)"
  else
    install -D -m "$mode" "$here/$source" "$prefix$destination"
    echo "installed $destination (edit it)"
  fi
done
# Earlier releases ran scan and snapshot as one hourly unit; left in place, it would run beside the new ones.
if has_role backend; then
  for old in mirrorvane-hourly.timer mirrorvane-hourly.service; do
    [ -e "$prefix/etc/systemd/system/$old" ] || continue
    if [ "$enable" -eq 1 ]; then systemctl disable --now "$old" 2>/dev/null || true; fi
    rm -f "$prefix/etc/systemd/system/$old"
    echo "removed   /etc/systemd/system/$old (replaced by mirrorvane-scan and mirrorvane-snapshot)"
  done
fi
# The units' Documentation= links.
for doc in deployment.md operations.md; do
  if [ -f "$repo/docs/$doc" ]; then
    install -m 0644 "$repo/docs/$doc" "$prefix/usr/share/doc/mirrorvane/$doc"
  fi
done
if [ -n "$bin_dir" ]; then
  install -d -m 0755 "$prefix/usr/bin"
  for binary in "${binaries[@]}"; do
    [ -x "$bin_dir/$binary" ] || die "$bin_dir/$binary: no such executable"
    install -m 0755 "$bin_dir/$binary" "$prefix/usr/bin/$binary"
    echo "installed /usr/bin/$binary"
  done
fi

if [ "$enable" -eq 1 ]; then
  systemctl daemon-reload
  systemctl enable "${enable_units[@]}"
else
  echo "not run: systemctl daemon-reload && systemctl enable ${enable_units[*]}"
fi

# What is still missing before the units can start.
todo=()
for binary in "${binaries[@]}"; do
  [ -x "$prefix/usr/bin/$binary" ] || todo+=("install /usr/bin/$binary (--bin-dir target/release)")
done
if has_role backend; then
  [ -e "$prefix/etc/mirrorvane/snapshot.key" ] ||
    todo+=("mirrorvane keygen -o /etc/mirrorvane/snapshot.key > /etc/mirrorvane/snapshot.pub")
  [ -e "$prefix/etc/mirrorvane/snapshot.token" ] ||
    todo+=("(umask 077; head -c 32 /dev/urandom | base64 > /etc/mirrorvane/snapshot.token)")
fi
if has_role edge; then
  [ -e "$prefix/etc/mirrorvane/snapshot.pub" ] || todo+=("copy the backend's /etc/mirrorvane/snapshot.pub here (0644)")
  [ -e "$prefix/etc/mirrorvane/snapshot.token" ] || todo+=("copy the backend's /etc/mirrorvane/snapshot.token here (0600)")
fi
if [ ${#todo[@]} -gt 0 ]; then
  echo "still to do (docs/deployment.md):"
  printf '  %s\n' "${todo[@]}"
fi
echo "then: systemctl start ${enable_units[*]}"
