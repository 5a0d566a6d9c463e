//! Which storage a server or an admin command uses, chosen at start: the embedded SQLite store
//! in a data directory (`--data DIR`, the default) or a PostgreSQL database
//! (`--database postgres://…`), and the admin commands both answer ([`AdminStore`]).

use std::path::PathBuf;

use crate::sqlite::SqliteBackend;

pub use crate::admin::AdminStore;

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
