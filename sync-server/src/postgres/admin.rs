//! The admin commands and enrollment on PostgreSQL: the same rules and messages as on SQLite
//! (`admin.rs`), this backend's SQL.

use tokio_postgres::error::SqlState;

use super::{PgBackend, PgTx};
use crate::admin::AdminStore;
use crate::admin::{CODE_TTL_MS, Device, NewUser, Workspace, check_name, check_new_user, now_ms};
use crate::auth;
use crate::backend::{BackendError, Enrolled, Enrollment, Lockout, Result, Role};
use crate::sqlite::next_failure;

impl PgBackend {
    fn admin<R>(&self, f: impl FnOnce(&mut PgTx<'_>) -> anyhow::Result<R>) -> anyhow::Result<R> {
        self.transaction("BEGIN", "", false, |tx| f(tx).map_err(Failed)).map_err(|Failed(e)| e)
    }
}

/// An admin command's error through [`PgBackend::transaction`].
struct Failed(anyhow::Error);

impl From<BackendError> for Failed {
    fn from(e: BackendError) -> Self {
        Failed(e.into())
    }
}

fn one_str(
    tx: &PgTx<'_>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<String>> {
    Ok(tx.query_opt(sql, params)?.map(|r| r.try_get(0)).transpose()?)
}

fn workspace_id(tx: &PgTx<'_>, ws: &str) -> anyhow::Result<String> {
    one_str(tx, "SELECT id FROM workspaces WHERE id = $1 OR name = $1", &[&ws])?
        .ok_or_else(|| anyhow::anyhow!("no workspace '{ws}'"))
}

fn team_id(tx: &PgTx<'_>, ws: &str, team: &str) -> anyhow::Result<String> {
    one_str(
        tx,
        "SELECT id FROM teams WHERE workspace_id = $1 AND (name = $2 OR id = $2)",
        &[&ws, &team],
    )?
    .ok_or_else(|| anyhow::anyhow!("no team '{team}' in this workspace"))
}

fn user_role(tx: &PgTx<'_>, ws: &str, user_id: &str) -> Result<Option<String>> {
    one_str(tx, "SELECT role FROM users WHERE workspace_id = $1 AND id = $2", &[&ws, &user_id])
}

fn new_code(tx: &PgTx<'_>, ws: &str, user_id: &str) -> anyhow::Result<String> {
    let code = auth::new_enrollment_code();
    tx.execute(
        "INSERT INTO enrollments (code_hash, workspace_id, user_id, expires_at) VALUES ($1, $2, $3, $4)",
        &[&auth::hash_secret(&auth::normalize_code(&code)), &ws, &user_id, &(now_ms() + CODE_TTL_MS)],
    )?;
    Ok(code)
}

impl AdminStore for PgBackend {
    fn create_workspace(&self, name: &str) -> anyhow::Result<Workspace> {
        check_name("workspace name", name)?;
        self.admin(|tx| {
            if tx.query_opt("SELECT 1 FROM workspaces WHERE name = $1", &[&name])?.is_some() {
                anyhow::bail!("a workspace named '{name}' exists already");
            }
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)",
                &[&id, &name, &now_ms()],
            )?;
            Ok(Workspace { id, name: name.to_string() })
        })
    }

    fn list_workspaces(&self) -> anyhow::Result<Vec<Workspace>> {
        self.admin(|tx| {
            let rows =
                tx.query("SELECT id, name FROM workspaces ORDER BY name COLLATE \"C\"", &[])?;
            Ok(rows.iter().map(|r| Workspace { id: r.get(0), name: r.get(1) }).collect())
        })
    }

    fn create_team(&self, workspace: &str, name: &str) -> anyhow::Result<String> {
        check_name("team name", name)?;
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            if tx
                .query_opt(
                    "SELECT 1 FROM teams WHERE workspace_id = $1 AND name = $2",
                    &[&ws, &name],
                )?
                .is_some()
            {
                anyhow::bail!("team '{name}' exists already");
            }
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO teams (id, workspace_id, name) VALUES ($1, $2, $3)",
                &[&id, &ws, &name],
            )?;
            Ok(id)
        })
    }

    fn add_user(
        &self,
        workspace: &str,
        user_id: &str,
        role: Role,
        team: Option<&str>,
    ) -> anyhow::Result<NewUser> {
        check_new_user(user_id, role, team)?;
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let team_id = team.map(|t| team_id(tx, &ws, t)).transpose()?;
            if user_role(tx, &ws, user_id)?.is_some() {
                anyhow::bail!(
                    "user '{user_id}' exists already; use `admin user code` for a new enrollment code"
                );
            }
            tx.execute(
                "INSERT INTO users (workspace_id, id, role, team_id, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[&ws, &user_id, &role.as_str(), &team_id, &now_ms()],
            )?;
            if role == Role::Manager {
                tx.execute(
                    "INSERT INTO team_managers (workspace_id, team_id, user_id) VALUES ($1, $2, $3)",
                    &[&ws, &team_id, &user_id],
                )?;
            }
            let code = new_code(tx, &ws, user_id)?;
            Ok(NewUser {
                workspace_id: ws,
                user_id: user_id.to_string(),
                role,
                team: team.map(str::to_string),
                enrollment_code: code,
            })
        })
    }

    fn manage_team(&self, workspace: &str, team: &str, user_id: &str) -> anyhow::Result<()> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let team_id = team_id(tx, &ws, team)?;
            match user_role(tx, &ws, user_id)?.as_deref() {
                None => anyhow::bail!("no user '{user_id}' in this workspace"),
                Some("manager") => {}
                Some(other) => {
                    anyhow::bail!("'{user_id}' is a {other}; only managers manage teams")
                }
            }
            tx.execute(
                "INSERT INTO team_managers (workspace_id, team_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&ws, &team_id, &user_id],
            )?;
            Ok(())
        })
    }

    fn managed_teams(&self, workspace: &str, user_id: &str) -> anyhow::Result<Vec<String>> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let rows = tx.query(
                "SELECT t.name FROM team_managers m JOIN teams t ON t.id = m.team_id WHERE m.workspace_id = $1 AND m.user_id = $2 ORDER BY t.name COLLATE \"C\"",
                &[&ws, &user_id],
            )?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn enrollment_code(&self, workspace: &str, user_id: &str) -> anyhow::Result<String> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            if user_role(tx, &ws, user_id)?.is_none() {
                anyhow::bail!("no user '{user_id}' in this workspace");
            }
            new_code(tx, &ws, user_id)
        })
    }

    fn list_devices(&self, workspace: &str) -> anyhow::Result<Vec<Device>> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let rows = tx.query(
                "SELECT id, user_id, name, created_at, revoked_at IS NOT NULL FROM devices WHERE workspace_id = $1 ORDER BY user_id COLLATE \"C\", created_at",
                &[&ws],
            )?;
            Ok(rows
                .iter()
                .map(|r| Device {
                    id: r.get(0),
                    user_id: r.get(1),
                    name: r.get(2),
                    created_at: r.get(3),
                    revoked: r.get(4),
                })
                .collect())
        })
    }

    fn lockouts(&self) -> anyhow::Result<Vec<Lockout>> {
        self.admin(|tx| {
            let rows = tx.query(
                "SELECT address, failures, locked_until, last_at FROM enroll_failures ORDER BY coalesce(locked_until, 0) DESC, last_at DESC",
                &[],
            )?;
            Ok(rows
                .iter()
                .map(|r| Lockout {
                    address: r.get(0),
                    failures: r.get::<_, i32>(1).max(0) as u32,
                    locked_until: r.get(2),
                    last_attempt: r.get(3),
                })
                .collect())
        })
    }

    fn clear_lockout(&self, address: &str) -> anyhow::Result<()> {
        self.admin(|tx| {
            if tx.execute("DELETE FROM enroll_failures WHERE address = $1", &[&address])? == 0 {
                anyhow::bail!("no failed enrollments recorded for '{address}'");
            }
            Ok(())
        })
    }

    fn revoke_device(&self, device_id: &str) -> anyhow::Result<()> {
        self.admin(|tx| {
            let n = tx.execute(
                "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                &[&device_id, &now_ms()],
            )?;
            if n == 0 {
                anyhow::bail!("no active device '{device_id}'");
            }
            Ok(())
        })
    }
}

/// Why an enrollment ended without a device: a refusal to commit (a failure recorded) or to
/// roll back.
enum Refused {
    Commit(BackendError),
    Abort(BackendError),
}

impl From<BackendError> for Refused {
    fn from(e: BackendError) -> Self {
        Refused::Abort(e)
    }
}

impl From<tokio_postgres::Error> for Refused {
    fn from(e: tokio_postgres::Error) -> Self {
        Refused::Abort(e.into())
    }
}

/// As SQLite's enrollment (`sqlite.rs`): a locked-out address is refused before its code is
/// looked at; an unknown, used or expired code counts as the address's failure. The code is
/// consumed by one `UPDATE … RETURNING`, so two instances enrolling with one code at once cannot
/// both succeed.
pub(crate) fn enroll(b: &PgBackend, e: &Enrollment<'_>) -> Result<Enrolled> {
    // A failure to record commits the failure; any other refusal rolls everything back.
    let outcome = b.transaction("BEGIN", "", false, |tx| -> std::result::Result<_, Refused> {
        let failures = tx.query_opt(
            "SELECT failures, first_at, locked_until FROM enroll_failures WHERE address = $1 FOR UPDATE",
            &[&e.address],
        )?;
        let failures = failures
            .map(|r| -> Result<_> {
                let until: Option<i64> = r.try_get(2)?;
                Ok((r.try_get::<_, i32>(0)?.max(0) as u32, r.try_get::<_, i64>(1)?, until))
            })
            .transpose()?;
        if let Some(until) = failures.and_then(|f| f.2).filter(|u| *u > e.now) {
            return Err(Refused::Abort(BackendError::LockedOut {
                retry_after_s: ((until - e.now) as u64).div_ceil(1000),
            }));
        }
        let code = tx.query_opt(
            "UPDATE enrollments SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at >= $2 RETURNING workspace_id, user_id",
            &[&e.code_hash, &e.now],
        )?;
        let Some(code) = code else {
            let (n, first_at, locked_until) = next_failure(failures.map(|f| (f.0, f.1)), e.now);
            tx.execute(
                "INSERT INTO enroll_failures (address, failures, first_at, last_at, locked_until) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (address) DO UPDATE SET failures = excluded.failures, first_at = excluded.first_at,
                     last_at = excluded.last_at, locked_until = coalesce(excluded.locked_until, enroll_failures.locked_until)",
                &[&e.address, &(n as i32), &first_at, &e.now, &locked_until],
            )?;
            if locked_until.is_some() {
                tracing::warn!(address = e.address, failures = n, "enrollment locked out after repeated invalid codes");
            }
            return Ok(Err(Refused::Commit(BackendError::InvalidCode)));
        };
        let (workspace_id, user_id): (String, String) = (code.try_get(0)?, code.try_get(1)?);
        // Refused with the code's use rolled back: the right person can still use it.
        if let Some(store_user) = e.user_id.filter(|u| *u != user_id) {
            return Err(Refused::Abort(BackendError::WrongUser {
                code_user: user_id,
                store_user: store_user.into(),
            }));
        }
        let role = user_role(tx, &workspace_id, &user_id)?.unwrap_or_default();
        let bound = tx.query_opt(
            "SELECT id, workspace_id, user_id FROM devices WHERE actor_id = $1 FOR UPDATE",
            &[&e.actor],
        )?;
        if let Some(bound) = bound {
            let (id, ws, u): (String, String, String) =
                (bound.try_get(0)?, bound.try_get(1)?, bound.try_get(2)?);
            if ws != workspace_id || u != user_id {
                return Err(Refused::Abort(BackendError::ActorTaken));
            }
            // The same user's store again: that device, with a new token (`Backend::enroll`).
            tx.execute(
                "UPDATE devices SET token_hash = $2, name = $3, revoked_at = NULL WHERE id = $1",
                &[&id, &e.token_hash, &e.device_name],
            )?;
            return Ok(Ok(Enrolled {
                device_id: id,
                user_id,
                workspace_id,
                role: Role::parse(&role).unwrap_or(Role::Rep),
                reenrolled: true,
            }));
        }
        let device_id = uuid::Uuid::now_v7().to_string();
        let inserted = tx.execute(
            "INSERT INTO devices (id, workspace_id, user_id, name, token_hash, actor_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&device_id, &workspace_id, &user_id, &e.device_name, &e.token_hash, &e.actor, &e.now],
        );
        if let Err(BackendError::Storage(m)) = &inserted
            && m.starts_with(SqlState::UNIQUE_VIOLATION.code())
        {
            return Err(Refused::Abort(BackendError::ActorTaken));
        }
        inserted?;
        Ok(Ok(Enrolled {
            device_id,
            user_id,
            workspace_id,
            role: Role::parse(&role).unwrap_or(Role::Rep),
            reenrolled: false,
        }))
    });
    match outcome {
        Ok(Ok(enrolled)) => Ok(enrolled),
        Ok(Err(r)) | Err(r) => match r {
            Refused::Commit(e) | Refused::Abort(e) => Err(e),
        },
    }
}
