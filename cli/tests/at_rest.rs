//! The CLI's files at rest: the store (which holds the sync token) readable by its owner only,
//! key files made and read as private, and stores encrypted with `--key-file`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Fs;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_enrolled_token_is_in_a_file_only_its_owner_can_read() {
    let server = common::acme();
    let phone = Fs::new();
    let out = phone.bare(&["enroll", "--server", &server.url, "--code", &server.kim_code]);
    assert!(out.status.success(), "{}", stderr(&out));
    phone.ok(&["lead", "add", "--name", "Private"]);
    assert_eq!(phone.json(&["sync"])["sent"], 1);
    let token = rusqlite::Connection::open(&phone.db)
        .unwrap()
        .query_row("SELECT value FROM meta WHERE key = 'sync.token'", [], |r| r.get::<_, String>(0))
        .unwrap();
    assert!(token.starts_with("fst_"), "the token is in this file: {token}");
    assert_eq!(mode(&phone.db), 0o600);
    // A store an older version left world-readable is tightened by the next command.
    std::fs::set_permissions(&phone.db, std::fs::Permissions::from_mode(0o644)).unwrap();
    phone.ok(&["lead", "list"]);
    assert_eq!(mode(&phone.db), 0o600);
}

#[test]
fn key_files_are_made_private_and_never_overwritten() {
    let fs = Fs::new();
    let key = fs.dir.path().join("store.key");
    let k = key.to_str().unwrap();
    let out = fs.bare(&["key", "new", k]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&key), 0o600);
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64);
    assert!(text.trim().chars().all(|c| c.is_ascii_hexdigit()));
    let again = fs.bare(&["key", "new", k]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("never replaced"), "{}", stderr(&again));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
}

#[test]
fn a_store_created_with_a_key_file_is_encrypted_and_opens_only_with_it() {
    let fs = Fs::new();
    let key = fs.dir.path().join("store.key");
    let k = key.to_str().unwrap();
    assert!(fs.bare(&["key", "new", k]).status.success());
    let id = fs.add(&["--key-file", k, "--name", "Encrypted Ehwa", "--company", "Acme"]);
    let bytes = std::fs::read(&fs.db).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0");
    assert!(!bytes.windows(5).any(|w| w == b"Ehwa"));
    assert_eq!(mode(&fs.db), 0o600);

    // Without the key, or with another one: a clear error, exit 1.
    let out = fs.run(&["lead", "list"]);
    assert!(fs.fail(out, 1).contains("wrong or missing encryption key"));
    let other = fs.dir.path().join("other.key");
    assert!(fs.bare(&["key", "new", other.to_str().unwrap()]).status.success());
    let out = fs.run(&["--key-file", other.to_str().unwrap(), "lead", "list"]);
    assert!(fs.fail(out, 1).contains("wrong or missing encryption key"));

    // With it, from the flag or the environment (the user is read from the encrypted file).
    let shown = fs.json(&["--key-file", k, "lead", "show", &id]);
    assert_eq!(shown["lead"]["name"], "Encrypted Ehwa");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales"))
        .env_remove("FIELDSALES_USER")
        .env("FIELDSALES_KEY_FILE", &key)
        .args(["--db", fs.db.to_str().unwrap(), "search", "ehwa"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Encrypted Ehwa"));

    // A key file others can read is refused before it is used.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = fs.run(&["--key-file", k, "lead", "list"]);
    let e = fs.fail(out, 1);
    assert!(e.contains("can be read by others (mode 644)") && e.contains("chmod 600"), "{e}");
    // A key file that is not a key.
    std::fs::write(&other, "not a key").unwrap();
    std::fs::set_permissions(&other, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = fs.run(&["--key-file", other.to_str().unwrap(), "lead", "list"]);
    assert!(fs.fail(out, 1).contains("expected 64 hex digits"));
}
