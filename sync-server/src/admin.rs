//! Admin operations: workspaces, teams, users with one-time enrollment codes, devices. Used by
//! `fieldsales-server admin …` on the data directory, also while the server runs.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::auth;
use crate::backend::{Lockout, Role};
use crate::sqlite::SqliteBackend;

/// Enrollment codes expire after a week.
pub(crate) const CODE_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Workspace {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct NewUser {
    pub workspace_id: String,
    pub user_id: String,
    pub role: Role,
    pub team: Option<String>,
    /// One-time code a device exchanges for its token (`POST /v1/devices`).
    pub enrollment_code: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub revoked: bool,
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// User ids appear as lead owners on every phone: short, readable, stable.
pub(crate) fn check_name(what: &str, s: &str) -> anyhow::Result<()> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c));
    if !ok {
        anyhow::bail!(
            "{what} '{s}' must be 1–64 characters of letters, digits, '-', '_', '.' or '@'"
        );
    }
    Ok(())
}

/// What `add_user` checks before it looks at storage (on either backend).
pub(crate) fn check_new_user(user_id: &str, role: Role, team: Option<&str>) -> anyhow::Result<()> {
    check_name("user id", user_id)?;
    if role == Role::Manager && team.is_none() {
        anyhow::bail!("a manager needs --team: the team whose leads they manage");
    }
    Ok(())
}

fn workspace_id(tx: &rusqlite::Connection, ws: &str) -> anyhow::Result<String> {
    tx.query_row("SELECT id FROM workspaces WHERE id = ?1 OR name = ?1", [ws], |r| r.get(0))
        .optional()?
        .ok_or_else(|| anyhow::anyhow!("no workspace '{ws}'"))
}

fn team_id(tx: &rusqlite::Connection, ws: &str, team: &str) -> anyhow::Result<String> {
    tx.query_row(
        "SELECT id FROM teams WHERE workspace_id = ?1 AND (name = ?2 OR id = ?2)",
        params![ws, team],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| anyhow::anyhow!("no team '{team}' in this workspace"))
}

/// The admin commands on the embedded store.
impl AdminStore for SqliteBackend {
    fn create_workspace(&self, name: &str) -> anyhow::Result<Workspace> {
        check_name("workspace name", name)?;
        self.admin(|tx| {
            if tx
                .query_row("SELECT 1 FROM workspaces WHERE name = ?1", [name], |_| Ok(()))
                .optional()?
                .is_some()
            {
                anyhow::bail!("a workspace named '{name}' exists already");
            }
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO workspaces (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![id, name, now_ms()],
            )?;
            Ok(Workspace { id, name: name.to_string() })
        })
    }

    fn list_workspaces(&self) -> anyhow::Result<Vec<Workspace>> {
        self.admin(|tx| {
            let mut stmt = tx.prepare("SELECT id, name FROM workspaces ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok(Workspace { id: r.get(0)?, name: r.get(1)? }))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn create_team(&self, workspace: &str, name: &str) -> anyhow::Result<String> {
        check_name("team name", name)?;
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            if tx
                .query_row(
                    "SELECT 1 FROM teams WHERE workspace_id = ?1 AND name = ?2",
                    params![ws, name],
                    |_| Ok(()),
                )
                .optional()?
                .is_some()
            {
                anyhow::bail!("team '{name}' exists already");
            }
            let id = uuid::Uuid::now_v7().to_string();
            tx.execute(
                "INSERT INTO teams (id, workspace_id, name) VALUES (?1, ?2, ?3)",
                params![id, ws, name],
            )?;
            Ok(id)
        })
    }

    /// Adds a user (a rep or manager belongs to `team`; a manager manages it and sees its
    /// leads, and may be given more teams with [`SqliteBackend::manage_team`]) and
    /// returns a one-time enrollment code for their first device.
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
            if tx.query_row("SELECT 1 FROM users WHERE workspace_id = ?1 AND id = ?2", params![ws, user_id], |_| Ok(())).optional()?.is_some() {
                anyhow::bail!("user '{user_id}' exists already; use `admin user code` for a new enrollment code");
            }
            tx.execute("INSERT INTO users (workspace_id, id, role, team_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)", params![ws, user_id, role.as_str(), team_id, now_ms()])?;
            if role == Role::Manager {
                tx.execute("INSERT INTO team_managers (workspace_id, team_id, user_id) VALUES (?1, ?2, ?3)", params![ws, team_id, user_id])?;
            }
            let code = new_code(tx, &ws, user_id)?;
            Ok(NewUser { workspace_id: ws, user_id: user_id.to_string(), role, team: team.map(str::to_string), enrollment_code: code })
        })
    }

    /// Gives a manager one more team to manage: they see and edit its members' leads from their
    /// next pull on. Managing a team twice is harmless.
    fn manage_team(&self, workspace: &str, team: &str, user_id: &str) -> anyhow::Result<()> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let team_id = team_id(tx, &ws, team)?;
            let role: Option<String> = tx.query_row("SELECT role FROM users WHERE workspace_id = ?1 AND id = ?2", params![ws, user_id], |r| r.get(0)).optional()?;
            match role.as_deref() {
                None => anyhow::bail!("no user '{user_id}' in this workspace"),
                Some("manager") => {}
                Some(other) => anyhow::bail!("'{user_id}' is a {other}; only managers manage teams"),
            }
            tx.execute("INSERT OR IGNORE INTO team_managers (workspace_id, team_id, user_id) VALUES (?1, ?2, ?3)", params![ws, team_id, user_id])?;
            Ok(())
        })
    }

    /// The teams a manager manages, by name.
    fn managed_teams(&self, workspace: &str, user_id: &str) -> anyhow::Result<Vec<String>> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let mut stmt = tx.prepare("SELECT t.name FROM team_managers m JOIN teams t ON t.id = m.team_id WHERE m.workspace_id = ?1 AND m.user_id = ?2 ORDER BY t.name")?;
            let rows = stmt.query_map(params![ws, user_id], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// A fresh one-time code for another device of an existing user.
    fn enrollment_code(&self, workspace: &str, user_id: &str) -> anyhow::Result<String> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            if tx
                .query_row(
                    "SELECT 1 FROM users WHERE workspace_id = ?1 AND id = ?2",
                    params![ws, user_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_none()
            {
                anyhow::bail!("no user '{user_id}' in this workspace");
            }
            new_code(tx, &ws, user_id)
        })
    }

    fn list_devices(&self, workspace: &str) -> anyhow::Result<Vec<Device>> {
        self.admin(|tx| {
            let ws = workspace_id(tx, workspace)?;
            let mut stmt = tx.prepare("SELECT id, user_id, name, created_at, revoked_at IS NOT NULL FROM devices WHERE workspace_id = ?1 ORDER BY user_id, created_at")?;
            let rows = stmt.query_map([ws], |r| Ok(Device { id: r.get(0)?, user_id: r.get(1)?, name: r.get(2)?, created_at: r.get(3)?, revoked: r.get(4)? }))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Addresses with failed enrollment attempts, the locked ones first.
    fn lockouts(&self) -> anyhow::Result<Vec<Lockout>> {
        self.admin(|tx| {
            let mut stmt = tx.prepare("SELECT address, failures, locked_until, last_at FROM enroll_failures ORDER BY coalesce(locked_until, 0) DESC, last_at DESC")?;
            let rows = stmt.query_map([], |r| Ok(Lockout { address: r.get(0)?, failures: r.get(1)?, locked_until: r.get(2)?, last_attempt: r.get(3)? }))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Lifts an address's lockout and forgets its failures.
    fn clear_lockout(&self, address: &str) -> anyhow::Result<()> {
        self.admin(|tx| {
            if tx.execute("DELETE FROM enroll_failures WHERE address = ?1", [address])? == 0 {
                anyhow::bail!("no failed enrollments recorded for '{address}'");
            }
            Ok(())
        })
    }

    /// Cuts one device off at once; the user's other devices keep working.
    fn revoke_device(&self, device_id: &str) -> anyhow::Result<()> {
        self.admin(|tx| {
            let n = tx.execute(
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![device_id, now_ms()],
            )?;
            if n == 0 {
                anyhow::bail!("no active device '{device_id}'");
            }
            Ok(())
        })
    }
}

/// `s` safe to print on a terminal: control characters (escape sequences, CR, LF, …) and
/// bidirectional overrides shown as `\u{…}` escapes instead of acting on the terminal. Device
/// names come from the devices themselves.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { c.escape_unicode().to_string() } else { c.to_string() }
        })
        .collect()
}

fn new_code(tx: &rusqlite::Connection, ws: &str, user_id: &str) -> anyhow::Result<String> {
    let code = auth::new_enrollment_code();
    tx.execute(
        "INSERT INTO enrollments (code_hash, workspace_id, user_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![auth::hash_secret(&auth::normalize_code(&code)), ws, user_id, now_ms() + CODE_TTL_MS],
    )?;
    Ok(code)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_terminal_controls_and_keeps_the_rest() {
        assert_eq!(printable("Kim's phone 김"), "Kim's phone 김");
        let shown = printable("\u{1b}[31mred\r\nfake line\u{202e}txt");
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(shown, "\\u{1b}[31mred\\u{d}\\u{a}fake line\\u{202e}txt");
    }
}
