//! The uniffi generator, built from the same uniffi version as the library it reads. Run in
//! library mode over the built cdylib (see scripts/test-bindings.sh):
//! `uniffi-bindgen generate --library target/debug/libfieldsales_ffi.so --language kotlin --no-format --out-dir bindings/generated/kotlin`
fn main() {
    uniffi::uniffi_bindgen_main()
}
