//! Who is calling and whose records they see: the plain values authorization (`authz.rs`),
//! storage (`backend.rs`) and live updates (`hub.rs`) share, with no dependency of their own.

use std::collections::HashSet;

use fieldsales_core::fingerprint::fingerprint;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Rep,
    Manager,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Rep => "rep",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "rep" => Some(Role::Rep),
            "manager" => Some(Role::Manager),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Who is calling: resolved from a device token on every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub device_id: String,
    pub user_id: String,
    pub workspace_id: String,
    pub role: Role,
    pub team_id: Option<String>,
    /// Hex actor id bound to the device at enrollment.
    pub actor: String,
}

/// The owner recorded for the workspace's settings document: everyone sees it.
pub const EVERYONE: &str = "*";

/// The owner recorded for a team's target.
pub fn team_owner(team_id: &str) -> String {
    format!("team:{team_id}")
}

/// Which owners' records a user may see and change.
#[derive(Clone, Debug)]
pub enum Visibility {
    All,
    Owners(HashSet<String>),
}

impl Visibility {
    /// The owners a backend filters on; `None` for everyone.
    pub fn owners(&self) -> Option<Vec<String>> {
        match self {
            Visibility::All => None,
            Visibility::Owners(s) => Some(s.iter().cloned().collect()),
        }
    }

    /// A short fingerprint of the teams this visibility covers, carried in pull cursors: when it
    /// changes (a manager was given another team), the device's cursor no longer covers what it
    /// may now see, and its pull starts over from snapshots. Members alone do not count: users
    /// never change teams, and a user who was just added owns nothing yet, so a new member
    /// brings no older records along (and so no manager device starts over for one).
    pub fn stamp(&self) -> String {
        match self {
            Visibility::All => "all".to_string(),
            Visibility::Owners(s) => {
                let mut teams: Vec<&String> = s.iter().filter(|o| o.starts_with("team:")).collect();
                teams.sort();
                format!("{:016x}", fingerprint(teams.into_iter().map(|t| t.as_bytes())))
            }
        }
    }

    pub fn sees(&self, owner: &str) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Owners(s) => owner == EVERYONE || s.contains(owner),
        }
    }
}
