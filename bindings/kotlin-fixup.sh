#!/usr/bin/env bash
# After uniffi-bindgen (Kotlin): makes FieldsalesException.message the core's text. uniffi 0.32
# prints a non-flat error's fields as "reason=…, field=…"; the error's cases carry `reason`
# (bindgen.toml renames Swift's `message`, which Kotlin's Throwable already has), and this
# rewrites the generated getter to return it as it is. And reuses the per-call status of a Rust
# call (below). Idempotent; fails if the generated code is not what uniffi 0.32 makes.
# Usage: bindings/kotlin-fixup.sh <kotlin out dir>
set -euo pipefail
f="$1/io/fieldsales/kit/ffi/fieldsales_ffi.kt"
[[ -f $f ]] || { echo "kotlin-fixup: no $f" >&2; exit 1; }
sed -i -E 's/get\(\) = "reason=\$\{ `reason` \}[^"]*"/get() = `reason`/' "$f"
if grep -q 'get() = "reason=' "$f"; then echo "kotlin-fixup: a getter was left unchanged in $f" >&2; exit 1; fi
grep -q 'get() = `reason`' "$f" || { echo "kotlin-fixup: no FieldsalesException getter found in $f" >&2; exit 1; }

# Both files: each Rust call takes its UniffiRustCallStatus (a JNA Structure holding a nested
# RustBuffer Structure, each with its own native Memory registered with JNA's cleaner) from a
# per-thread pool instead of allocating a new one; a call made while another is under way on the
# same thread (a callback into Kotlin) takes another. JNA writes the status's fields to native
# memory before each call and reads them back after, so a status reset here starts clean. No
# uniffi setting changes this helper (docs/benchmarks.md, "One FFI call").
for g in "$1"/io/fieldsales/kit/core/fieldsales_core.kt "$f"; do
  grep -q 'kotlin-fixup: pooled call status' "$g" && continue
  perl -0777 -i -pe '
    my $n = s{private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError\(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: \(UniffiRustCallStatus\) -> U\): U \{\n    var status = UniffiRustCallStatus\(\)\n    val return_value = callback\(status\)\n    uniffiCheckCallStatus\(errorHandler, status\)\n    return return_value\n\}\n}{// kotlin-fixup: pooled call status (bindings/kotlin-fixup.sh)
private val uniffiCallStatusPool = object : ThreadLocal<ArrayDeque<UniffiRustCallStatus>>() {
    override fun initialValue() = ArrayDeque<UniffiRustCallStatus>(4)
}

private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    val pool = uniffiCallStatusPool.get()
    val status = pool.removeLastOrNull() ?: UniffiRustCallStatus()
    try {
        val return_value = callback(status)
        uniffiCheckCallStatus(errorHandler, status)
        return return_value
    } finally {
        status.code = UNIFFI_CALL_SUCCESS
        status.error_buf.capacity = 0
        status.error_buf.len = 0
        status.error_buf.data = null
        pool.addLast(status)
    }
}
};
    die "kotlin-fixup: uniffiRustCallWithError not found\n" unless $n == 1;
  ' "$g" || { echo "kotlin-fixup: $g is not what uniffi 0.32 generates" >&2; exit 1; }
done

# Both files: a returned RustBuffer is lifted from one heap copy of its bytes (one JNI read)
# instead of from a direct ByteBuffer over native memory, and a string in it is decoded straight
# from that array. uniffi 0.32 copies each string's bytes into a new ByteArray and then decodes
# it: ~500 strings in a page of 50 leads (docs/benchmarks.md, "One FFI call"). Same reads, same
# errors: a negative length throws NegativeArraySizeException, one past the end
# BufferUnderflowException, leftover bytes the same RuntimeException; the buffer is freed as before
# (now also when the copy fails). A direct buffer (a callback's argument) still takes the old path.
for g in "$1"/io/fieldsales/kit/core/fieldsales_core.kt "$f"; do
  grep -q 'kotlin-fixup: heap lift' "$g" && continue
  perl -0777 -i -pe '
    my $n = 0;
    $n += s~    fun liftFromRustBuffer\(rbuf: RustBuffer\.ByValue\): KotlinType \{\n        val byteBuf = rbuf\.asByteBuffer\(\)!!\n        try \{\n           val item = read\(byteBuf\)\n~    fun liftFromRustBuffer(rbuf: RustBuffer.ByValue): KotlinType {
        // kotlin-fixup: heap lift (bindings/kotlin-fixup.sh)
        val data = rbuf.data!!
        try {
           val byteBuf = ByteBuffer.wrap(data.getByteArray(0, Math.toIntExact(rbuf.len)))
           val item = read(byteBuf)
~;
    $n += s~(object FfiConverterString: FfiConverter<String, RustBuffer\.ByValue> \{.*?)    override fun read\(buf: ByteBuffer\): String \{\n        val len = buf\.getInt\(\)\n        val byteArr = ByteArray\(len\)\n~$1    override fun read(buf: ByteBuffer): String {
        val len = buf.getInt()
        if (buf.hasArray()) {
            if (len < 0) throw NegativeArraySizeException(len.toString())
            if (len > buf.remaining()) throw java.nio.BufferUnderflowException()
            val at = buf.position()
            val value = String(buf.array(), buf.arrayOffset() + at, len, Charsets.UTF_8)
            buf.position(at + len)
            return value
        }
        val byteArr = ByteArray(len)
~s;
    die "kotlin-fixup: expected 2 replacements for the heap lift, made $n\n" unless $n == 2;
  ' "$g" || { echo "kotlin-fixup: $g is not what uniffi 0.32 generates" >&2; exit 1; }
done
