//! Secrets on the phone: the sync token in the platform keystore instead of the store, and the
//! store encrypted at rest with a key the app keeps there.
//!
//! - [`TokenVault`], implemented by the app over the Android Keystore or the iOS Keychain: with
//!   `saveCredentialsToVault` and `syncWithVault` the token never lands in the SQLite file (a
//!   token an older version stored there moves to the vault and is erased from the file);
//! - `FieldStore.openEncrypted(path, userId, region, key)`: SQLCipher with a raw 32-byte key.

use std::sync::Arc;

use fieldsales_core::store::StoreKey;
use fieldsales_core::sync::{Credentials, SyncClient, SyncSummary};
use fieldsales_core::{OpenOptions, Store};

use crate::sync::{CancelHandle, SyncProgressListener};
use crate::{FieldStore, FieldsalesError};

type Result<T> = std::result::Result<T, FieldsalesError>;

/// What a [`TokenVault`] implementation throws when the keystore fails.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum VaultError {
    // Not `message`: Kotlin exceptions have one already.
    #[error("the keystore failed: {reason}")]
    Failed { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for VaultError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        VaultError::Failed { reason: e.reason }
    }
}

impl From<VaultError> for FieldsalesError {
    fn from(e: VaultError) -> Self {
        FieldsalesError::Storage { message: e.to_string() }
    }
}

/// Where the app keeps this device's sync token: the Android Keystore (e.g. an
/// `EncryptedSharedPreferences` entry) or the iOS Keychain. `account` names one store's token
/// (`FieldStore.vaultAccount()`: its user and device actor), so one vault can serve several
/// stores. Implemented in Kotlin or Swift.
#[uniffi::export(with_foreign)]
pub trait TokenVault: Send + Sync {
    /// The token saved for `account`, or `None`.
    fn load(&self, account: String) -> std::result::Result<Option<String>, VaultError>;
    fn save(&self, account: String, token: String) -> std::result::Result<(), VaultError>;
    fn clear(&self, account: String) -> std::result::Result<(), VaultError>;
}

fn key(bytes: &[u8]) -> Result<StoreKey> {
    Ok(StoreKey::from_bytes(bytes)?)
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldStore {
    /// Opens (creating if needed) the store at `path` encrypted at rest with SQLCipher under
    /// `key`: 32 bytes the app keeps in the platform keystore (no passphrase stretching). A new
    /// store is created encrypted; an existing one must have been created with this key, else
    /// `WrongKey` (nothing is written).
    #[uniffi::constructor]
    pub fn open_encrypted(
        path: String,
        user_id: String,
        region: String,
        key: Vec<u8>,
    ) -> Result<Arc<Self>> {
        let opts = OpenOptions::new(user_id).region(region).key(self::key(&key)?);
        FieldStore::open_with(path, opts)
    }

    /// `openEncrypted` for a store created with the actor a device enrolled with.
    #[uniffi::constructor]
    pub fn open_encrypted_with_actor(
        path: String,
        user_id: String,
        region: String,
        actor_id: String,
        key: Vec<u8>,
    ) -> Result<Arc<Self>> {
        let opts = OpenOptions::new(user_id).region(region).actor(actor_id).key(self::key(&key)?);
        FieldStore::open_with(path, opts)
    }

    /// The `account` under which this store's token is kept in a [`TokenVault`].
    pub fn vault_account(&self) -> String {
        format!("fieldsales/{}/{}", self.store.user_id(), self.store.actor_id())
    }

    /// Saves what `enroll` returned with the token in `vault`, never in the store; a token the
    /// store held before is erased from its file.
    pub fn save_credentials_to_vault(
        &self,
        credentials: Credentials,
        vault: Arc<dyn TokenVault>,
    ) -> Result<()> {
        vault.save(self.vault_account(), credentials.token.clone())?;
        Ok(SyncClient::save_credentials_except_token(&self.store, &credentials)?)
    }

    /// Whether this store is enrolled and `vault` holds its token.
    pub fn is_enrolled_with_vault(&self, vault: Arc<dyn TokenVault>) -> Result<bool> {
        let token = vault.load(self.vault_account())?;
        Ok(token.is_some() && SyncClient::enrolled_server(&self.store)?.is_some())
    }

    /// `sync` with the token from `vault`. A store enrolled before the app had a vault has its
    /// token moved there first (and erased from the file).
    pub async fn sync_with_vault(
        &self,
        vault: Arc<dyn TokenVault>,
        listener: Option<Arc<dyn SyncProgressListener>>,
        cancel: Option<Arc<CancelHandle>>,
    ) -> Result<SyncSummary> {
        let account = self.vault_account();
        let token = match vault.load(account.clone())? {
            Some(t) => t,
            None => {
                let t = SyncClient::stored_token(&self.store)?
                    .ok_or(fieldsales_core::sync::SyncError::NotEnrolled)?;
                vault.save(account, t.clone())?;
                SyncClient::erase_stored_token(&self.store)?;
                t
            }
        };
        let client = SyncClient::with_token(&self.store, token)?;
        self.run_sync(client, listener, cancel).await
    }

    /// Forgets this device's sync token, in `vault` and in the store.
    pub fn forget_token(&self, vault: Arc<dyn TokenVault>) -> Result<()> {
        vault.clear(self.vault_account())?;
        Ok(SyncClient::erase_stored_token(&self.store)?)
    }
}

/// `peekStoreUser` for a store encrypted with `key`.
#[uniffi::export]
pub fn peek_encrypted_store_user(path: String, key: Vec<u8>) -> Result<Option<String>> {
    Ok(Store::peek_user_keyed(path, Some(&self::key(&key)?))?)
}

/// A new random 32-byte store key, for an app that has no keystore-generated one; keep it in
/// the platform keystore.
#[uniffi::export]
pub fn new_store_key() -> Vec<u8> {
    StoreKey::generate().as_bytes().to_vec()
}
