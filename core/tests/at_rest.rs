//! The store file at rest: readable by its owner only, and (with the `encryption` feature)
//! encrypted with SQLCipher under a key the app supplies.

use fieldsales_core::store::StoreKey;
use fieldsales_core::*;

fn draft(name: &str) -> LeadDraft {
    LeadDraft { name: Some(name.into()), company: Some("Acme".into()), ..Default::default() }
}

#[cfg(unix)]
fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn store_files_are_owner_only_and_existing_ones_are_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.db");
    let files = ["", "-wal", "-shm"].map(|s| dir.path().join(format!("leads.db{s}")));
    let s = Store::open(&path, OpenOptions::new("rep-kim")).unwrap();
    // The sync token lives in this file.
    s.set_meta("sync.token", Some("fst_secret")).unwrap();
    s.create_lead(draft("Kim")).unwrap();
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    // Files an older version left world-readable are tightened when the store is opened.
    for f in &files {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let again = Store::open(&path, OpenOptions::new("rep-kim")).unwrap();
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert_eq!(again.meta("sync.token").unwrap().as_deref(), Some("fst_secret"));
}

/// The store file with its write-ahead log and shared-memory file.
fn on_disk(path: &std::path::Path) -> Vec<u8> {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::read(format!("{}{s}", path.display())).ok())
        .flatten()
        .collect()
}

fn holds(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn an_erased_token_is_gone_from_the_file_and_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.db");
    let token = "fst_5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
    let s = Store::open(&path, OpenOptions::new("rep-kim")).unwrap();
    s.set_meta("sync.token", Some(token)).unwrap();
    s.create_lead(draft("Kim")).unwrap();
    assert!(holds(&on_disk(&path), token), "control: a stored token is in the files");
    // A plain delete leaves the bytes in the freed space and in the log; erasing does not.
    s.erase_meta("sync.token").unwrap();
    assert_eq!(s.meta("sync.token").unwrap(), None);
    s.create_lead(draft("Lee")).unwrap();
    assert!(!holds(&on_disk(&path), token), "the store is open");
    drop(s);
    assert!(!holds(&on_disk(&path), token), "the store is closed");
}

#[cfg(feature = "encryption")]
mod encrypted {
    use super::*;

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn the_file_is_unreadable_without_its_key_and_opens_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.db");
        let key = StoreKey::generate();
        let opts = || OpenOptions::new("rep-kim").region("KR");
        let s = Store::open(&path, opts().key(key.clone())).unwrap();
        let lead = s.create_lead(draft("Seo Jiwoo Secretname")).unwrap();
        s.set_meta("sync.token", Some("fst_0123456789abcdef")).unwrap();
        drop(s);

        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 4096, "{} bytes", bytes.len());
        assert_ne!(&bytes[..16], b"SQLite format 3\0", "the header is encrypted");
        assert!(!contains(&bytes, b"Secretname"));
        assert!(!contains(&bytes, b"fst_0123456789abcdef"));

        // Plain SQLite (no key) cannot read it.
        let plain = rusqlite::Connection::open(&path).unwrap();
        let e = plain.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0));
        assert_eq!(e.unwrap_err().sqlite_error_code(), Some(rusqlite::ErrorCode::NotADatabase));
        drop(plain);
        // Nor can the store without the key, or with another one.
        for wrong in [opts(), opts().key(StoreKey::generate())] {
            let e = Store::open(&path, wrong).unwrap_err();
            assert!(matches!(&e, Error::WrongKey { .. }), "{e:?}");
            assert!(e.to_string().contains("wrong or missing encryption key"), "{e}");
        }
        assert!(matches!(Store::peek_user(&path), Err(Error::WrongKey { .. })));
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "failed opens wrote nothing");

        let s = Store::open(&path, opts().key(key.clone())).unwrap();
        assert_eq!(s.lead(&lead.id).unwrap().name.as_deref(), Some("Seo Jiwoo Secretname"));
        assert_eq!(s.search_leads("secretn", 10).unwrap().len(), 1);
        assert!(s.verify().unwrap().is_ok());
        assert_eq!(Store::peek_user_keyed(&path, Some(&key)).unwrap().as_deref(), Some("rep-kim"));
    }

    #[test]
    fn a_plain_store_does_not_open_with_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain.db");
        Store::open(&path, OpenOptions::new("rep-kim")).unwrap().create_lead(draft("Kim")).unwrap();
        let before = std::fs::read(&path).unwrap();
        assert_eq!(&before[..16], b"SQLite format 3\0");
        let e = Store::open(&path, OpenOptions::new("rep-kim").key(StoreKey::generate()));
        assert!(matches!(e, Err(Error::WrongKey { .. })), "{e:?}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}

#[cfg(not(feature = "encryption"))]
#[test]
fn without_the_encryption_feature_a_key_is_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let e = Store::open(&path, OpenOptions::new("rep-kim").key(StoreKey::generate())).unwrap_err();
    assert!(e.to_string().contains("no encryption at rest"), "{e}");
}
