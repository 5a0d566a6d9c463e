#!/usr/bin/env bash
# Run a command inside the trixie Swift root (see swift-root.sh) with a host directory mounted.
# Usage: swift-in-root.sh [--lib HOST_LIB_DIR]... HOST_DIR -- CMD [ARGS...]
#   e.g. swift-in-root.sh --lib "$PWD/target/debug" "$PWD/ios/FieldSales" -- swift test
# Host dirs are mounted at the SAME absolute path inside the root, so paths (errors, -L flags,
# LD_LIBRARY_PATH, SwiftPM's .build) mean the same thing on both sides.
# --lib dirs go to LD_LIBRARY_PATH (run time) and LIBRARY_PATH (link time: clang adds them as -L);
# host-built libs work in trixie because host glibc (2.36) is older than trixie's.
set -euo pipefail

ROOT="${FIELDSALES_SWIFT_ROOT:-/var/cache/fieldsales/swift-root-trixie}"; ROOT="${ROOT%/}"
usage() { echo "usage: $0 [--lib DIR]... HOST_DIR -- CMD [ARGS...]" >&2; exit 2; }

LIBS=()
while [[ $# -gt 0 && $1 == --lib ]]; do [[ $# -ge 2 ]] || usage; LIBS+=("$(realpath -e "$2")"); shift 2; done
[[ $# -ge 3 && $2 == -- ]] || usage
WORK="$(realpath -e "$1")"; shift 2
[[ -f "$ROOT/.fieldsales-swift-root-complete" ]] || { echo "no Swift root at $ROOT; run swift-root.sh" >&2; exit 1; }
# Never shadow the root's own system dirs with host ones.
[[ ! "$WORK" =~ ^/((proc|dev|sys|usr|etc|bin|sbin|lib|lib64)(/.*)?|var|root|tmp)?$ ]] || { echo "refusing to mount $WORK" >&2; exit 1; }

# One user of the root at a time: mounts are shared state, and swift-root.sh may be wiping it.
exec 9>"$ROOT.lock"; flock 9

MOUNTED=()
cleanup() {  # ALWAYS runs (EXIT trap): unmount in reverse order; lazy so a busy mount can't leave us stuck
  local i; for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do umount -R -l "${MOUNTED[i]}" || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP   # turn signals into a normal exit so the EXIT trap unmounts
mnt() { local dst="$ROOT$1"; shift; mkdir -p "$dst"; mount "$@" "$dst"; MOUNTED+=("$dst"); }
bind() { mnt "$2" --rbind "$1"; mount --make-rslave "$ROOT$2"; }  # rslave: our umounts never propagate to host

mnt /proc -t proc proc          # swift locates its runtime via /proc/self/exe ($ORIGIN rpath)
bind /dev /dev                  # /dev/null, /dev/urandom, /dev/shm, /dev/pts
bind /sys /sys
mnt /tmp -t tmpfs tmpfs         # private scratch; host dirs under /tmp are bound on top of it below
bind "$WORK" "$WORK"
LIBPATH=""
for d in "${LIBS[@]}"; do
  [[ "$d/" == "$WORK/"* ]] || { bind "$d" "$d"; mount -o remount,bind,ro "$ROOT$d"; }
  LIBPATH="${LIBPATH:+$LIBPATH:}$d"
done
ENVS=(HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin)
[[ -z "$LIBPATH" ]] || ENVS+=(LD_LIBRARY_PATH="$LIBPATH" LIBRARY_PATH="$LIBPATH")

# Clean environment (host PATH/HOME/CARGO vars mean nothing inside trixie). Runs in the foreground,
# so on a signal the mounts are released once the command has exited; the exit code is the command's.
chroot "$ROOT" /usr/bin/env -i -C "$WORK" "${ENVS[@]}" "$@"
