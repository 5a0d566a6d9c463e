// The uniffi-generated bindings (fieldsales_core.swift, fieldsales_ffi.swift) are copied into
// this folder by scripts/test-bindings.sh from bindings/generated/swift; they are not committed.
// Regenerate them whenever the Rust API changes: the generated code checks at load time that it
// matches the library's API checksums.
