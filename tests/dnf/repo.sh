# Sourced by tests/dnf/chain.sh and tests/quickstart/run.sh: the test repository of the dnf tests.
#
# add_push TOP N AT SCRATCH: push N of the repository `releases/41/Everything/x86_64/os` below TOP (a category's
# top directory): rpmbuild of mirrorvane-hello-1.0-N (older builds stay, as on a real mirror), createrepo_c, and
# every file and directory the push touched dated AT (seconds since the epoch), as if pushed then. SCRATCH holds
# rpmbuild's tree and log. Returns non-zero, with the tool's output in SCRATCH/push.log, when a tool fails.
add_push() {
  local top=$1 n=$2 at=$3 scratch=$4
  local os="$top/releases/41/Everything/x86_64/os"
  local here
  here=$(dirname "${BASH_SOURCE[0]}")
  mkdir -p "$os/Packages/m" "$scratch/rpmbuild"
  rpmbuild -bb --nodeps --quiet --define "_topdir $scratch/rpmbuild" --define "push $n" \
    "$here/mirrorvane-hello.spec" >"$scratch/push.log" 2>&1 || return 1
  cp "$scratch/rpmbuild/RPMS/noarch/mirrorvane-hello-1.0-$n.noarch.rpm" "$os/Packages/m/"
  # repomd.xml's timestamps are the push's time (what the scanner records and the metalink shows).
  createrepo_c --quiet --update --revision "$at" --set-timestamp-to-revision "$os" >>"$scratch/push.log" 2>&1 ||
    return 1
  touch -d "@$at" "$os/Packages/m/mirrorvane-hello-1.0-$n.noarch.rpm" "$os"/repodata/* "$os/repodata" \
    "$os/Packages/m" "$os/Packages" "$os"
}
