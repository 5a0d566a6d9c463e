//! Which storage a server or an admin command uses, chosen at start: the embedded SQLite store
//! in a data directory (`--data DIR`, the default) or a PostgreSQL database
//! (`--database postgres://…`), and the admin commands both answer ([`AdminStore`]).

use std::path::PathBuf;

use crate::admin::{Device, NewUser, Workspace};
use crate::backend::{Lockout, Role};
use crate::sqlite::SqliteBackend;

/// The admin commands (`fieldsales-server admin …`), on either backend. Synchronous: on
/// PostgreSQL call them from a blocking thread or a multi-threaded runtime's thread.
pub trait AdminStore: Send + Sync {
    fn create_workspace(&self, name: &str) -> anyhow::Result<Workspace>;
    fn list_workspaces(&self) -> anyhow::Result<Vec<Workspace>>;
    fn create_team(&self, workspace: &str, name: &str) -> anyhow::Result<String>;
    /// Adds a user and returns a one-time enrollment code for their first device.
    fn add_user(
        &self,
        workspace: &str,
        user_id: &str,
        role: Role,
        team: Option<&str>,
    ) -> anyhow::Result<NewUser>;
    fn manage_team(&self, workspace: &str, team: &str, user_id: &str) -> anyhow::Result<()>;
    fn managed_teams(&self, workspace: &str, user_id: &str) -> anyhow::Result<Vec<String>>;
    fn enrollment_code(&self, workspace: &str, user_id: &str) -> anyhow::Result<String>;
    fn list_devices(&self, workspace: &str) -> anyhow::Result<Vec<Device>>;
    fn lockouts(&self) -> anyhow::Result<Vec<Lockout>>;
    fn clear_lockout(&self, address: &str) -> anyhow::Result<()>;
    fn revoke_device(&self, device_id: &str) -> anyhow::Result<()>;
}

impl AdminStore for SqliteBackend {
    fn create_workspace(&self, name: &str) -> anyhow::Result<Workspace> {
        SqliteBackend::create_workspace(self, name)
    }
    fn list_workspaces(&self) -> anyhow::Result<Vec<Workspace>> {
        SqliteBackend::list_workspaces(self)
    }
    fn create_team(&self, workspace: &str, name: &str) -> anyhow::Result<String> {
        SqliteBackend::create_team(self, workspace, name)
    }
    fn add_user(
        &self,
        workspace: &str,
        user_id: &str,
        role: Role,
        team: Option<&str>,
    ) -> anyhow::Result<NewUser> {
        SqliteBackend::add_user(self, workspace, user_id, role, team)
    }
    fn manage_team(&self, workspace: &str, team: &str, user_id: &str) -> anyhow::Result<()> {
        SqliteBackend::manage_team(self, workspace, team, user_id)
    }
    fn managed_teams(&self, workspace: &str, user_id: &str) -> anyhow::Result<Vec<String>> {
        SqliteBackend::managed_teams(self, workspace, user_id)
    }
    fn enrollment_code(&self, workspace: &str, user_id: &str) -> anyhow::Result<String> {
        SqliteBackend::enrollment_code(self, workspace, user_id)
    }
    fn list_devices(&self, workspace: &str) -> anyhow::Result<Vec<Device>> {
        SqliteBackend::list_devices(self, workspace)
    }
    fn lockouts(&self) -> anyhow::Result<Vec<Lockout>> {
        SqliteBackend::lockouts(self)
    }
    fn clear_lockout(&self, address: &str) -> anyhow::Result<()> {
        SqliteBackend::clear_lockout(self, address)
    }
    fn revoke_device(&self, device_id: &str) -> anyhow::Result<()> {
        SqliteBackend::revoke_device(self, device_id)
    }
}

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// The embedded store in this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl Database {
    /// From the command line's `--data DIR` and `--database URL`: exactly one of them.
    pub fn choose(data: Option<PathBuf>, database: Option<String>) -> anyhow::Result<Database> {
        match (data, database) {
            (Some(dir), None) => Ok(Database::Sqlite(dir)),
            (None, Some(url)) if is_postgres(&url) => Ok(Database::Postgres(url)),
            (None, Some(url)) => anyhow::bail!(
                "--database takes a PostgreSQL URL (postgres://user@host/db), not '{url}'; for the embedded store use --data DIR"
            ),
            (Some(_), Some(_)) => {
                anyhow::bail!("give either --data DIR or --database URL, not both")
            }
            (None, None) => {
                anyhow::bail!("give --data DIR (embedded store) or --database postgres://…")
            }
        }
    }

    /// The admin commands' view of it. On PostgreSQL, call on a multi-threaded runtime.
    pub async fn admin(&self) -> anyhow::Result<Box<dyn AdminStore>> {
        Ok(match self {
            Database::Sqlite(dir) => Box::new(SqliteBackend::open(dir)?),
            Database::Postgres(url) => {
                Box::new(crate::postgres::PgBackend::open_quiet(url, 2).await?)
            }
        })
    }
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_store_is_chosen() {
        let dir = || Some(PathBuf::from("/srv/fs"));
        let url = |u: &str| Some(u.to_string());
        assert_eq!(Database::choose(dir(), None).unwrap(), Database::Sqlite("/srv/fs".into()));
        assert_eq!(
            Database::choose(None, url("postgres://fs@db/fs")).unwrap(),
            Database::Postgres("postgres://fs@db/fs".into())
        );
        assert!(
            Database::choose(None, url("mysql://x"))
                .unwrap_err()
                .to_string()
                .contains("PostgreSQL URL")
        );
        assert!(Database::choose(dir(), url("postgres://x")).is_err());
        assert!(Database::choose(None, None).is_err());
    }
}
