#!/usr/bin/env bash
# After uniffi-bindgen (Swift): reads records out of a returned RustBuffer without Foundation's
# generic `DataProtocol.copyBytes(to:from:)`. uniffi 0.32's `readInt`/`readBytes` call it once
# or twice per field; on Linux it runs unspecialised (witness tables, metadata lookups, retains)
# and cost ~0.2 µs a call, ~7 µs a LeadSummary (docs/benchmarks.md, "One FFI call"). No uniffi
# setting changes these helpers (docs/bindings.md). The replacements read the same big-endian
# bytes straight from the buffer Rust returned, through an `UnsafeRawBufferPointer` that replaces
# the reader's `Data` (every `(data: Data, offset: Data.Index)` reader in both files), and a
# string without an intermediate array; same bounds checks, same errors. Idempotent; fails if a
# helper is not found as expected (a uniffi upgrade: check the template, then this script).
# Usage: bindings/swift-fixup.sh <swift out dir>
set -euo pipefail
dir="$1"
for f in "$dir"/fieldsales_core.swift "$dir"/fieldsales_ffi.swift; do
  [[ -f $f ]] || { echo "swift-fixup: no $f" >&2; exit 1; }
  grep -q 'swift-fixup: pointer reader' "$f" && continue
  perl -0777 -i -pe '
    my $n = 0;
    $n += s{fileprivate func readInt<T: FixedWidthInteger>\(_ reader: inout \(data: Data, offset: Data\.Index\)\) throws -> T \{\n.*?reader\.data\.copyBytes.*?\n\}\n}{fileprivate func readInt<T: FixedWidthInteger>(_ reader: inout (data: UnsafeRawBufferPointer, offset: Int)) throws -> T {
    // swift-fixup: pointer reader (bindings/swift-fixup.sh)
    let size = MemoryLayout<T>.size
    guard reader.data.count >= reader.offset + size else {
        throw UniffiInternalError.bufferOverflow
    }
    let value = reader.data.loadUnaligned(fromByteOffset: reader.offset, as: T.self)
    reader.offset += size
    return T(bigEndian: value)
}
}s;
    $n += s{fileprivate func readBytes\(_ reader: inout \(data: Data, offset: Data\.Index\), count: Int\) throws -> Array<UInt8> \{\n.*?reader\.data\.copyBytes.*?\n\}\n}{fileprivate func readBytes(_ reader: inout (data: UnsafeRawBufferPointer, offset: Int), count: Int) throws -> Array<UInt8> {
    guard count >= 0, reader.data.count >= reader.offset + count else {
        throw UniffiInternalError.bufferOverflow
    }
    let value = Array(reader.data[reader.offset..<reader.offset + count])
    reader.offset += count
    return value
}

// A UTF-8 string of `count` bytes, decoded in place (no intermediate array).
fileprivate func readString(_ reader: inout (data: UnsafeRawBufferPointer, offset: Int), count: Int) throws -> String {
    guard count >= 0, reader.data.count >= reader.offset + count else {
        throw UniffiInternalError.bufferOverflow
    }
    let start = reader.data.baseAddress.map { (\$0 + reader.offset).assumingMemoryBound(to: UInt8.self) }
    let value = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    reader.offset += count
    return value
}
}s;
    $n += s{return String\(decoding: try readBytes\(&buf, count: Int\(len\)\), as: UTF8\.self\)}{return try readString(&buf, count: Int(len))};
    # The reader: the bytes of the returned buffer where Rust left them, not a Foundation `Data`
    # over them (each read of a `Data` goes through its storage class: exclusivity checks,
    # calls). Same lifetime as before: `Data(bytesNoCopy:deallocator: .none)` did not own them.
    $n += s{fileprivate func createReader\(data: Data\) -> \(data: Data, offset: Data\.Index\) \{\n    \(data: data, offset: 0\)\n\}\n}{fileprivate func createReader(data: UnsafeRawBufferPointer) -> (data: UnsafeRawBufferPointer, offset: Int) {
    (data: data, offset: 0)
}
}s;
    $n += s{var reader = createReader\(data: Data\(rustBuffer: buf\)\)}{var reader = createReader(data: UnsafeRawBufferPointer(start: buf.data!, count: Int(buf.len)))};
    my $t = s{\(data: Data, offset: Data\.Index\)}{(data: UnsafeRawBufferPointer, offset: Int)}g;
    die "swift-fixup: no reader signatures found\n" unless $t > 0;
    die "swift-fixup: expected 5 replacements, made $n\n" unless $n == 5;
  ' "$f" || { echo "swift-fixup: $f is not what uniffi 0.32 generates; see the comment in $0" >&2; exit 1; }
  if grep -q 'reader\.data\.copyBytes' "$f"; then echo "swift-fixup: a copyBytes read was left in $f" >&2; exit 1; fi
done
