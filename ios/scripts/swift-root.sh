#!/usr/bin/env bash
# Build (once) a minimal Debian trixie root with Swift 6 in it.
# Why: Debian 12 has no Swift; trixie packages it as `swiftlang`, so we chroot into trixie.
# Usage: swift-root.sh [ROOT]   (default ${FIELDSALES_SWIFT_ROOT:-/var/cache/fieldsales/swift-root-trixie})
set -euo pipefail

ROOT="${1:-${FIELDSALES_SWIFT_ROOT:-/var/cache/fieldsales/swift-root-trixie}}"
ROOT="${ROOT%/}"
MARKER="$ROOT/.fieldsales-swift-root-complete"   # written LAST: its presence == root is complete
# swift: compiler+SwiftPM+XCTest; libc6-dev/libstdc++-14-dev: headers & crt files the linker needs;
# ca-certificates/pkg-config: SwiftPM fetches/pkg-config lookups (cheap, avoids surprises later).
PKGS=(swiftlang libc6-dev libstdc++-14-dev ca-certificates pkg-config)

# Fast path: nothing to do if a previous run finished.
if [[ -f "$MARKER" ]]; then echo "swift-root: cached at $ROOT ($(cat "$MARKER"))"; exit 0; fi
[[ $EUID -eq 0 ]] || { echo "swift-root: must run as root (debootstrap/chroot)" >&2; exit 1; }
[[ -n "$ROOT" && "$ROOT" != / ]] || { echo "swift-root: refusing ROOT='$ROOT'" >&2; exit 1; }

# Serialise with swift-in-root.sh (same lock) so we never wipe a root that is in use.
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"; flock 9

phase() { local name=$1 t0=$SECONDS; shift; "$@"; echo "swift-root: [$name] $((SECONDS - t0))s"; }

# The Debian mirror this host's apt already uses (first URI ending in /debian, deb822 or one-line).
mirror() {
  local f; for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    grep -hoE '^[[:space:]]*(URIs:|deb([[:space:]]+\[[^]]*\])?)[[:space:]]+[a-z]+://[^[:space:]]+/debian/?([[:space:]]|$)' "$f" \
      | grep -oE '[a-z]+://[^[:space:]]+' | sed -n 1p
  done | sed -n 1p
}
MIRROR="${FIELDSALES_DEBIAN_MIRROR:-$(mirror)}"
[[ -n "$MIRROR" ]] || { echo "swift-root: no Debian mirror found in /etc/apt" >&2; exit 1; }
echo "swift-root: ROOT=$ROOT MIRROR=$MIRROR"

# No marker => an earlier run was interrupted (or never ran): wipe and redo.
# Unmount leftovers first (e.g. a killed swift-in-root) so rm can never reach host files via bind mounts.
wipe() {
  awk -v r="$ROOT" 'index($2, r"/")==1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$ROOT"
}
phase wipe wipe

install_debootstrap() {
  apt-get update -qq
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap
}
phase host-apt install_debootstrap
phase debootstrap debootstrap --variant=minbase trixie "$ROOT" "$MIRROR"

chroot_install() {
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"        # DNS for apt inside the chroot
  mount -t proc proc "$ROOT/proc"; trap 'umount -l "$ROOT/proc"' EXIT   # some postinsts want /proc
  chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -ec "
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ${PKGS[*]}
    apt-get clean; rm -rf /var/lib/apt/lists/*"     # keep the cached root small
  # Smoke test; needs /proc: swift finds libswiftCore.so via $ORIGIN, which ld.so resolves via /proc/self/exe.
  chroot "$ROOT" /usr/bin/swift --version | sed -n 1p > "$MARKER.tmp"
  umount "$ROOT/proc"; trap - EXIT
}
phase chroot-apt chroot_install

mv "$MARKER.tmp" "$MARKER"
echo "swift-root: done: $(cat "$MARKER"); size $(du -sh --one-file-system "$ROOT" | cut -f1)"
