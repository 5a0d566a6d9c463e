//! `admin --data DIR migrate --to postgres://…`: moves an embedded store into an empty
//! PostgreSQL database, every row as it is, so that enrolled devices keep working without
//! starting over: their tokens (stored as hashes) and actors are the same, and the feed keeps
//! its numbers, so a device's cursor stands at the same row with the same check
//! (`cursor.rs`). The SQLite side is read in one transaction (a consistent copy); the
//! PostgreSQL side is written in one (all or nothing). Stop the server first: writes made after
//! the copy began are not in it.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::PgBackend;
use crate::sqlite::SqliteBackend;

#[derive(Clone, Copy)]
enum Ty {
    Text,
    I64,
    I32,
    I16,
    Bytes,
}

/// Each table and its columns, parents first.
const TABLES: &[(&str, &[(&str, Ty)])] = &[
    ("workspaces", &[("id", Ty::Text), ("name", Ty::Text), ("created_at", Ty::I64)]),
    ("teams", &[("id", Ty::Text), ("workspace_id", Ty::Text), ("name", Ty::Text)]),
    (
        "users",
        &[
            ("workspace_id", Ty::Text),
            ("id", Ty::Text),
            ("role", Ty::Text),
            ("team_id", Ty::Text),
            ("created_at", Ty::I64),
        ],
    ),
    ("team_managers", &[("workspace_id", Ty::Text), ("team_id", Ty::Text), ("user_id", Ty::Text)]),
    (
        "enrollments",
        &[
            ("code_hash", Ty::Text),
            ("workspace_id", Ty::Text),
            ("user_id", Ty::Text),
            ("expires_at", Ty::I64),
            ("used_at", Ty::I64),
        ],
    ),
    (
        "devices",
        &[
            ("id", Ty::Text),
            ("workspace_id", Ty::Text),
            ("user_id", Ty::Text),
            ("name", Ty::Text),
            ("token_hash", Ty::Text),
            ("actor_id", Ty::Text),
            ("created_at", Ty::I64),
            ("revoked_at", Ty::I64),
        ],
    ),
    (
        "enroll_failures",
        &[
            ("address", Ty::Text),
            ("failures", Ty::I32),
            ("first_at", Ty::I64),
            ("last_at", Ty::I64),
            ("locked_until", Ty::I64),
        ],
    ),
    (
        "documents",
        &[
            ("workspace_id", Ty::Text),
            ("id", Ty::Text),
            ("kind", Ty::I16),
            ("owner", Ty::Text),
            ("lead_id", Ty::Text),
            ("data", Ty::Bytes),
        ],
    ),
    (
        "feed",
        &[
            ("seq", Ty::I64),
            ("workspace_id", Ty::Text),
            ("doc_id", Ty::Text),
            ("kind", Ty::I16),
            ("owner", Ty::Text),
            ("hash", Ty::Text),
            ("actor", Ty::Text),
            ("data", Ty::Bytes),
            ("old_owner", Ty::Text),
            ("new_owner", Ty::Text),
        ],
    ),
];

/// Rows written per pipelined batch.
const BATCH: usize = 500;

type Param = Box<dyn ToSql + Sync + Send>;

fn param(v: Value, ty: Ty, table: &str, col: &str) -> anyhow::Result<Param> {
    let bad = || anyhow::anyhow!("{table}.{col}: unexpected value in the SQLite store");
    Ok(match (ty, v) {
        (Ty::Text, Value::Null) => Box::new(None::<String>),
        (Ty::Text, Value::Text(s)) => Box::new(Some(s)),
        (Ty::I64, Value::Null) => Box::new(None::<i64>),
        (Ty::I64, Value::Integer(i)) => Box::new(Some(i)),
        (Ty::I32, Value::Integer(i)) => Box::new(i32::try_from(i).map_err(|_| bad())?),
        (Ty::I16, Value::Integer(i)) => Box::new(i16::try_from(i).map_err(|_| bad())?),
        (Ty::Bytes, Value::Null) => Box::new(None::<Vec<u8>>),
        (Ty::Bytes, Value::Blob(b)) => Box::new(Some(b)),
        _ => return Err(bad()),
    })
}

impl PgBackend {
    /// Copies every row of `from` into this database, which must hold no workspace yet; the
    /// rows copied, by table.
    pub fn import_sqlite(&self, from: &SqliteBackend) -> anyhow::Result<BTreeMap<String, u64>> {
        let conn = self.client()?;
        let c = &*conn;
        self.run(c.batch_execute("BEGIN"))?;
        let copied = self.run(c.query_one("SELECT count(*) FROM workspaces", &[]))?;
        if copied.get::<_, i64>(0) > 0 {
            let _ = self.run(c.batch_execute("ROLLBACK"));
            anyhow::bail!(
                "the PostgreSQL database holds workspaces already; migrate into an empty one"
            );
        }
        let mut counts = BTreeMap::new();
        let read = from.admin(|tx| {
            for (table, cols) in TABLES {
                let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
                let insert = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    names.join(", "),
                    marks.join(", ")
                );
                let st = self.run(c.prepare(&insert))?;
                let mut stmt = tx
                    .prepare(&format!("SELECT {} FROM {table} ORDER BY rowid", names.join(", ")))?;
                let mut rows = stmt.query([])?;
                let mut batch: Vec<Vec<Param>> = Vec::with_capacity(BATCH);
                let mut n = 0u64;
                loop {
                    let row = rows.next()?;
                    if let Some(r) = row {
                        let mut values = Vec::with_capacity(cols.len());
                        for (i, (col, ty)) in cols.iter().enumerate() {
                            values.push(param(r.get::<_, Value>(i)?, *ty, table, col)?);
                        }
                        batch.push(values);
                    }
                    if batch.len() >= BATCH || (row.is_none() && !batch.is_empty()) {
                        n += batch.len() as u64;
                        // Pipelined on the one connection: a batch costs about one round trip.
                        self.run(futures_util::future::try_join_all(batch.iter().map(|v| {
                            let params: Vec<&(dyn ToSql + Sync)> =
                                v.iter().map(|b| &**b as &(dyn ToSql + Sync)).collect();
                            let st = st.clone();
                            async move { c.execute(&st, &params).await }
                        })))?;
                        batch.clear();
                    }
                    if row.is_none() {
                        break;
                    }
                }
                counts.insert(table.to_string(), n);
            }
            Ok(())
        });
        if let Err(e) = read {
            let _ = self.run(c.batch_execute("ROLLBACK"));
            return Err(e);
        }
        // New feed rows are numbered after the copied ones.
        self.run(c.batch_execute(
            "SELECT setval(pg_get_serial_sequence('feed', 'seq'), coalesce((SELECT max(seq) FROM feed), 0) + 1, false); COMMIT",
        ))?;
        Ok(counts)
    }
}
