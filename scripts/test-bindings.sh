#!/usr/bin/env bash
# The bindings' tests with real compilers: builds the FFI library (bindings/, fieldsales-ffi) and
# the sync server, generates the Kotlin and Swift bindings in library mode, starts a
# fieldsales-server on a free loopback port with fresh users and enrollment codes, then runs
#   - the Kotlin suite: `mvn -B test` in android/ (JUnit 5, the library loaded through JNA), then
#     the UI suite: `mvn -B test` in android/ui/ (headless Compose UI tests, JUnit 4);
#   - the Swift suite: `swift test` in ios/FieldSalesKit inside a Debian trixie root (Swift 6).
# Both suites run even if the first fails; the exit code is non-zero if either failed.
#
# Usage: scripts/test-bindings.sh [--kotlin-only | --swift-only] [--bench]
#   --bench  instead of the tests, the FFI-call benchmark: "list 50 leads" in Rust (core call,
#            adapter, adapter + the page serialised into a RustBuffer; no FFI), Kotlin (JNA) and
#            Swift, all against the release library; and the list screen on 100,000 leads
#            next to the core calls it wraps (android/ui ListScreenBenchmark; Swift
#            FieldSalesUIBench, the LeadsViewModel).
# FIELDSALES_SWIFT_FILTER=PATTERN runs only the Swift tests matching it (a quick local loop).
#
# Cached and idempotent: cargo's target/, the Maven repository (FIELDSALES_M2_REPO, default
# ~/.m2/repository), the Swift root (FIELDSALES_SWIFT_ROOT, default
# /var/cache/fieldsales/swift-root-trixie, built once by ios/scripts/swift-root.sh) and SwiftPM's
# ios/FieldSalesKit/.build all persist between runs; bindings are regenerated only when the
# library or bindgen.toml changed. The server's data lives in a temp dir removed on exit.
# Needs: cargo, a C compiler, Maven and a JDK 17; root (chroot) and debootstrap for Swift.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
M2="${FIELDSALES_M2_REPO:-$HOME/.m2/repository}"
export FIELDSALES_SWIFT_ROOT="${FIELDSALES_SWIFT_ROOT:-/var/cache/fieldsales/swift-root-trixie}"

RUN_KOTLIN=1 RUN_SWIFT=1 BENCH=0
for a in "$@"; do
  case $a in
    --kotlin-only) RUN_SWIFT=0 ;;
    --swift-only) RUN_KOTLIN=0 ;;
    --bench) BENCH=1 ;;
    *) echo "usage: $0 [--kotlin-only | --swift-only] [--bench]" >&2; exit 2 ;;
  esac
done

step() { echo "== test-bindings: $*" >&2; }
SWIFT_PKG="$REPO/ios/FieldSalesKit"
GEN="$REPO/bindings/generated"

# ---- build and generate ---------------------------------------------------------------------
PROFILE=debug
CARGO_PROFILE=()
if [[ $BENCH == 1 ]]; then PROFILE=release CARGO_PROFILE=(--release); fi
LIBDIR="${CARGO_TARGET_DIR:-$REPO/target}/$PROFILE"
# Two builds, not one: built together, cargo would unify features and link the server against
# the FFI's SQLCipher (docs/architecture.md, "Encryption at rest"); the tests talk to the server
# as it ships.
step "cargo build ($PROFILE): -p fieldsales-ffi"
cargo build "${CARGO_PROFILE[@]}" -p fieldsales-ffi
if [[ $BENCH == 0 ]]; then   # the benchmark needs no server
  step "cargo build ($PROFILE): -p fieldsales-server"
  cargo build "${CARGO_PROFILE[@]}" -p fieldsales-server
fi
LIB="$LIBDIR/libfieldsales_ffi.so"
[[ -f $LIB ]] || { echo "no $LIB after the build" >&2; exit 1; }

STAMP="$GEN/.generated-from"
WANT="$(sha256sum "$LIB" bindings/bindgen.toml bindings/kotlin-fixup.sh bindings/swift-fixup.sh | sha256sum | cut -c1-64)"
if [[ ! -f $STAMP || "$(cat "$STAMP")" != "$WANT" ]]; then
  step "uniffi-bindgen (library mode) → bindings/generated/{kotlin,swift}"
  rm -rf "$GEN"
  for lang in kotlin swift; do
    "$LIBDIR/uniffi-bindgen" generate --library "$LIB" --config bindings/bindgen.toml \
      --language "$lang" --no-format --out-dir "$GEN/$lang"
  done
  bash bindings/kotlin-fixup.sh "$GEN/kotlin"
  bash bindings/swift-fixup.sh "$GEN/swift"
  echo "$WANT" > "$STAMP"
else
  step "bindings up to date in bindings/generated"
fi

# The Swift package compiles the generated sources and headers in place (SwiftPM needs them
# inside the package); they are git-ignored there. Copy only when they differ, so SwiftPM's
# incremental build stays warm while the FFI is unchanged. When it did change, SwiftPM's build
# folder goes: its incremental build has been seen to keep test objects compiled against an old
# record layout (a field added to a record returned across the FFI), which crashed at run time.
FFI_CHANGED=0
sync_file() { cmp -s "$1" "$2" || { cp "$1" "$2"; FFI_CHANGED=1; }; }
mkdir -p "$SWIFT_PKG/Sources/FieldSalesCore" "$SWIFT_PKG/Sources/FieldSalesFFI"
for f in fieldsales_core fieldsales_ffi; do
  sync_file "$GEN/swift/$f.swift" "$SWIFT_PKG/Sources/FieldSalesCore/$f.swift"
  sync_file "$GEN/swift/${f}_ffi.h" "$SWIFT_PKG/Sources/FieldSalesFFI/${f}_ffi.h"
done
if [[ $FFI_CHANGED == 1 && -d $SWIFT_PKG/.build ]]; then
  step "the FFI changed: a clean Swift build"
  rm -rf "$SWIFT_PKG/.build"
fi

swift_in_root() { bash ios/scripts/swift-in-root.sh --lib "$LIBDIR" "$SWIFT_PKG" -- "$@"; }
# Debian trixie's swiftlang 6.0.3 ships a libswiftObservation.so with an undefined reference to
# swift::threading::fatal (defined by no library of that toolchain): linking anything that uses
# Observation fails unless the linker lets shared libraries keep undefined symbols. The symbol
# is only reached on a fatal threading error. Linux-only; Xcode needs nothing of the sort.
SWIFT_LINUX_FLAGS=(-Xlinker --allow-shlib-undefined)

# ---- benchmark ------------------------------------------------------------------------------
if [[ $BENCH == 1 ]]; then
  step "bench: Rust"
  cargo run -q --release -p fieldsales-ffi --example list_bench
  if [[ $RUN_KOTLIN == 1 ]]; then
    step "bench: Kotlin (JNA)"
    (cd android && mvn -B -q test -Dmaven.repo.local="$M2" -Dnative.dir="$LIBDIR" -Dtest=ListLeadsBenchmark \
      -Dsurefire.failIfNoSpecifiedTests=false) | grep -E "ns/call|FAIL|ERROR" || true
    step "bench: the list screen on 100,000 leads (Kotlin, Compose)"
    (cd android/ui && mvn -B -q test -Dmaven.repo.local="$M2" -Dnative.dir="$LIBDIR" -Dtest=ListScreenBenchmark \
      -Dsurefire.failIfNoSpecifiedTests=false) | grep -E "^bench|FAIL|ERROR" || true
  fi
  if [[ $RUN_SWIFT == 1 ]]; then
    step "bench: Swift"
    bash ios/scripts/swift-root.sh
    swift_in_root swift run -c release "${SWIFT_LINUX_FLAGS[@]}" FieldSalesBench
    step "bench: Swift list screen on 100,000 leads (LeadsViewModel next to the core calls)"
    swift_in_root swift run -c release "${SWIFT_LINUX_FLAGS[@]}" FieldSalesUIBench
  fi
  exit 0
fi

# ---- a sync server for the tests ------------------------------------------------------------
DATA="$(mktemp -d "${TMPDIR:-/tmp}/fieldsales-bindings-server.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The suites load the library and run the server from a copy of their own: a build in the same
# cargo target folder (another checkout sharing the cache) cannot replace them under a running
# JVM or server.
mkdir "$DATA/lib"
cp "$LIB" "$LIBDIR/fieldsales-server" "$DATA/lib/"
LIBDIR="$DATA/lib"

step "starting fieldsales-server on 127.0.0.1 (data in $DATA)"
: >"$DATA/serve.log"   # exists before the first read below, however late the server starts
"$LIBDIR/fieldsales-server" serve --data "$DATA/server" --listen 127.0.0.1:0 >"$DATA/serve.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 200); do
  URL="$(sed -n 's/.*listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$DATA/serve.log" | sed -n 1p)"
  [[ -n $URL ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/serve.log" >&2; echo "fieldsales-server exited" >&2; exit 1; }
  sleep 0.05
done
[[ -n $URL ]] || { cat "$DATA/serve.log" >&2; echo "fieldsales-server did not report its address" >&2; exit 1; }
step "server at $URL"

admin() { "$LIBDIR/fieldsales-server" admin --data "$DATA/server" --json "$@"; }
code_of() { sed -n 's/.*"enrollment_code": *"\([^"]*\)".*/\1/p'; }
PROPS="$DATA/test-server.properties"
admin workspace create bindings >/dev/null
{
  echo "server=$URL"
  for lang in kotlin swift; do
    for role in sync cancel vault live quarantine; do
      user="$lang-$role"
      echo "$lang.$role.user=$user"
      echo "$lang.$role.code.1=$(admin user add --workspace bindings --role rep "$user" | code_of)"
      for n in 2 3; do echo "$lang.$role.code.$n=$(admin user code --workspace bindings "$user" | code_of)"; done
    done
  done
  # The UI suite (android/ui): a rep who syncs, one who enrolls through the Enroll screen, and
  # a team of a rep (lee) and a manager (park) whose device sees lee's leads (duplicate warning).
  admin team create --workspace bindings ui-team >/dev/null
  for role in sync:rep cancel:rep enroll:rep lee:rep park:manager; do
    user="ui-${role%%:*}"
    echo "ui.${role%%:*}.user=$user"
    echo "ui.${role%%:*}.code.1=$(admin user add --workspace bindings --role "${role##*:}" --team ui-team "$user" | code_of)"
    for n in 2 3; do echo "ui.${role%%:*}.code.$n=$(admin user code --workspace bindings "$user" | code_of)"; done
  done
} >"$PROPS"
# The Swift view models' tests (FieldSalesUITests): one team, a manager and two reps, so that a
# manager's capture can meet a rep's lead and the team's figures have someone to show.
if [[ $RUN_SWIFT == 1 ]]; then
  admin team create --workspace bindings swift-ui >/dev/null
  for spec in rep:kim rep:lee manager:park; do
    role=${spec%%:*} user="swift-ui-${spec#*:}" key="swift.ui.${spec#*:}"
    echo "$key.user=$user"
    echo "$key.code.1=$(admin user add --workspace bindings --role "$role" --team swift-ui "$user" | code_of)"
    for n in 2 3 4; do echo "$key.code.$n=$(admin user code --workspace bindings "$user" | code_of)"; done
  done >>"$PROPS"
fi
if grep -q '=$' "$PROPS"; then cat "$PROPS" >&2; echo "could not set up the test users" >&2; exit 1; fi

# ---- the suites -----------------------------------------------------------------------------
STATUS=0
FAILED=()
if [[ $RUN_KOTLIN == 1 ]]; then
  step "Kotlin: mvn -B test (android/)"
  (cd android && mvn -B test -Dmaven.repo.local="$M2" -Dnative.dir="$LIBDIR" -Dfieldsales.testServer="$PROPS") ||
    { STATUS=1; FAILED+=("Kotlin kit (android/target/surefire-reports)"); }
  # The screens (android/ui): headless Compose UI tests on real stores and this server; they
  # write a PNG of every screen into android/ui/target/screens (docs/screens/ holds a copy).
  step "Kotlin UI: mvn -B test (android/ui/)"
  (cd android/ui && mvn -B test -Dmaven.repo.local="$M2" -Dnative.dir="$LIBDIR" -Dfieldsales.testServer="$PROPS") ||
    { STATUS=1; FAILED+=("Kotlin UI (android/ui/target/surefire-reports)"); }
fi
if [[ $RUN_SWIFT == 1 ]]; then
  step "Swift: swift test (ios/FieldSalesKit, in the trixie root)"
  bash ios/scripts/swift-root.sh
  mkdir -p "$SWIFT_PKG/.fieldsales-test"
  cp "$PROPS" "$SWIFT_PKG/.fieldsales-test/server.properties"
  # XCTest only: Swift Testing would add a closing "0 tests passed" line of its own.
  # FIELDSALES_SWIFT_FILTER (a test name pattern) narrows the run for a quick local loop.
  swift_in_root swift test --disable-swift-testing "${SWIFT_LINUX_FLAGS[@]}" \
    ${FIELDSALES_SWIFT_FILTER:+--filter "$FIELDSALES_SWIFT_FILTER"} 2>&1 | tee "$DATA/swift-test.log" ||
    { STATUS=1; FAILED+=("Swift (exit ${PIPESTATUS[0]})"); }
  rm -f "$SWIFT_PKG/.fieldsales-test/server.properties"
fi
# A failure's details scroll far up in a long log: repeat them last, where a CI tail shows them.
if [[ $STATUS != 0 ]]; then
  {
    echo "== test-bindings: FAILED: ${FAILED[*]}"
    for f in android/target/surefire-reports/*.txt android/ui/target/surefire-reports/*.txt; do
      [[ -f $f ]] && grep -q -E "FAILURE!|ERROR!" "$f" && awk '!/^[[:space:]]+at / && n++ < 30' "$f"
    done
    [[ -f $DATA/swift-test.log ]] && grep -E " failed |error:|Fatal error|signal" "$DATA/swift-test.log" | awk 'NR <= 40'
    echo "== test-bindings: FAILED: ${FAILED[*]}"
  } >&2 || true
fi
exit $STATUS
