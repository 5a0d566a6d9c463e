//! The store's encryption key as a file: `--key-file` (or `FIELDSALES_KEY_FILE`) names it,
//! `fieldsales key new` makes one. The file holds 64 hex digits and must be readable by its
//! owner only, as ssh insists for private keys: a key others can read protects nothing.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use fieldsales_core::store::StoreKey;

/// Reads the key at `path`, refusing a file that its group or others may read.
pub fn read(path: &Path) -> Result<StoreKey> {
    check_private(path)?;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    StoreKey::from_hex(&text).with_context(|| format!("the key file {}", path.display()))
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "the key file {} can be read by others (mode {mode:03o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<()> {
    Ok(())
}

/// Writes a new random key to `path`, created readable and writable by its owner only. An
/// existing file is never overwritten: it may be the only key to a store.
pub fn create(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).with_context(|| {
        format!(
            "cannot create the key file {} (an existing file is never replaced)",
            path.display()
        )
    })?;
    writeln!(f, "{}", StoreKey::generate().to_hex())?;
    f.sync_all()?;
    Ok(())
}
