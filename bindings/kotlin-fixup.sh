#!/usr/bin/env bash
# After uniffi-bindgen (Kotlin): makes FieldsalesException.message the core's text. uniffi 0.32
# prints a non-flat error's fields as "reason=…, field=…"; the error's cases carry `reason`
# (bindgen.toml renames Swift's `message`, which Kotlin's Throwable already has), and this
# rewrites the generated getter to return it as it is. Idempotent.
# Usage: bindings/kotlin-fixup.sh <kotlin out dir>
set -euo pipefail
f="$1/io/fieldsales/kit/ffi/fieldsales_ffi.kt"
[[ -f $f ]] || { echo "kotlin-fixup: no $f" >&2; exit 1; }
sed -i -E 's/get\(\) = "reason=\$\{ `reason` \}[^"]*"/get() = `reason`/' "$f"
if grep -q 'get() = "reason=' "$f"; then echo "kotlin-fixup: a getter was left unchanged in $f" >&2; exit 1; fi
grep -q 'get() = `reason`' "$f" || { echo "kotlin-fixup: no FieldsalesException getter found in $f" >&2; exit 1; }
