//! Who may see and change what: [`Visibility`] (whose records a user sees) and one `authorize`
//! function per kind, each deciding on the facts the push resolved from storage (the record's
//! owner before and after). Pure: no storage, so each rule is tested on its own, as a table.
//! The rules are docs/protocol.md's "Who sees what".

use std::collections::HashSet;

use crate::backend::{DocTx, Principal, Result, Role};

pub use crate::principal::{EVERYONE, Visibility, team_owner};

// `Visibility` itself (and its pure methods) is in `principal.rs`, a leaf that `hub.rs` can use;
// reading it from storage is authorization's business.
impl Visibility {
    /// A rep sees their own records and their team's targets; a manager those of the members
    /// of every team they manage and those teams' targets, and their own; an admin everything.
    /// Everyone sees the settings document.
    pub fn of(tx: &mut dyn DocTx, p: &Principal) -> Result<Visibility> {
        Ok(match p.role {
            Role::Admin => Visibility::All,
            Role::Rep => {
                let mut s = HashSet::from([p.user_id.clone()]);
                s.extend(p.team_id.as_deref().map(team_owner));
                Visibility::Owners(s)
            }
            Role::Manager => {
                let mut s = HashSet::from([p.user_id.clone()]);
                for t in tx.managed_teams(&p.user_id)? {
                    s.extend(tx.team_members(&t)?);
                    s.insert(team_owner(&t));
                }
                Visibility::Owners(s)
            }
        })
    }
}

/// A refused change: the rejection's code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

fn forbidden(message: impl Into<String>) -> Refusal {
    Refusal { code: "forbidden", message: message.into() }
}

/// What a record the user may not see answers, the same whether it exists or not.
pub fn not_yours() -> Refusal {
    forbidden("you may not change this record")
}

pub type Decision = std::result::Result<(), Refusal>;

/// The record as stored before the push must be one the user sees (the push evaluates a record
/// the user may not see as if it did not exist, and refuses it with [`not_yours`] at the end).
fn old_visible(vis: &Visibility, old: Option<&str>) -> Decision {
    match old {
        Some(o) if !vis.sees(o) => Err(not_yours()),
        _ => Ok(()),
    }
}

/// A lead stored with owner `old` (`None`: new) and written with owner `new`. Reps keep their
/// own; managers move leads among the members of the teams they manage; admins anywhere.
pub fn lead(p: &Principal, vis: &Visibility, old: Option<&str>, new: &str) -> Decision {
    old_visible(vis, old)?;
    let allowed = match p.role {
        Role::Admin => true,
        Role::Manager => vis.sees(new) && new != EVERYONE,
        Role::Rep => new == p.user_id,
    };
    if allowed {
        return Ok(());
    }
    Err(forbidden(match (p.role, old) {
        (Role::Rep, Some(o)) if o == p.user_id => {
            "only managers and admins may give a lead to someone else".to_string()
        }
        (Role::Rep, _) => "reps can only create leads they own".to_string(),
        _ => format!("'{new}' is not in a team you manage"),
    }))
}

/// Edits of a lead the user may no longer see, written before her device knew (issue 14): a
/// rep edits a lead offline while her manager gives it to someone else. `seen` are the lead's
/// owners (concurrent values included) at the edits' dependencies, i.e. as the author's
/// device had the lead when she wrote them; `owner_now` the owner stored now and `written`
/// the owner after the edits. They are taken if the author could change the lead as she saw
/// it (each owner she saw is one she sees) and they leave its owner alone (so they reach
/// whoever owns it now, through the feed). Edits that build on the change of hands were
/// written by a device that knew of it: `seen` then holds the new owner, and they are refused
/// like any edit of a record that is not hers.
pub fn lead_as_seen(
    vis: &Visibility,
    seen: &[String],
    owner_now: &str,
    written: &str,
    owner_untouched: bool,
) -> Decision {
    if seen.is_empty() || !seen.iter().all(|o| vis.sees(o) && o != EVERYONE) {
        return Err(not_yours());
    }
    if !owner_untouched || written != owner_now {
        return Err(forbidden(
            "this lead was given to someone else meanwhile; your edits may not change its owner",
        ));
    }
    Ok(())
}

/// An activity logged (or edited) offline on a lead the user may no longer see (issue 14):
/// `owner_then` is the lead's owner as the device last pulled (the pull cursor it sends with
/// its push), `None` when the lead has not changed hands since. Taken if she could see the
/// lead then, the lead exists, and the activity stays on the lead it was logged on; it then
/// reaches whoever owns the lead now. Otherwise the answer of [`activity`] stands.
pub fn activity_as_seen(
    vis: &Visibility,
    owner_then: Option<&str>,
    lead_exists: bool,
    same_lead: bool,
) -> bool {
    lead_exists && same_lead && owner_then.is_some_and(|o| vis.sees(o) && o != EVERYONE)
}

/// An activity stored under a lead owned by `old` (`None`: new) and written under the lead
/// `lead_id`, owned by `new` (`None`: no such lead). An activity moves between leads (two leads
/// merged) only when the writer sees both. A lead the user may not see answers as one that
/// does not exist.
pub fn activity(vis: &Visibility, old: Option<&str>, lead_id: &str, new: Option<&str>) -> Decision {
    old_visible(vis, old)?;
    match new {
        Some(o) if vis.sees(o) => Ok(()),
        _ => Err(Refusal {
            code: "unknown_lead",
            message: format!("lead {lead_id} is not on the server, or not yours"),
        }),
    }
}

/// The workspace's sales process settings: managers and admins write them.
pub fn settings(p: &Principal) -> Decision {
    if p.role == Role::Rep {
        return Err(forbidden("only managers and admins may change the sales process settings"));
    }
    Ok(())
}

/// A target stored for `old` (`None`: new) and written for `new` (a user id, or a team's
/// `team:<id>`; `subject` is how the push named it). Managers set those of the teams they
/// manage, their members and their own; admins all.
pub fn target(
    p: &Principal,
    vis: &Visibility,
    old: Option<&str>,
    new: &str,
    subject: &str,
) -> Decision {
    if p.role == Role::Rep {
        return Err(forbidden("only managers and admins may set targets"));
    }
    old_visible(vis, old)?;
    if !vis.sees(new) || new == EVERYONE {
        return Err(forbidden(format!(
            "'{subject}' is not you, your team or a member of a team you manage"
        )));
    }
    Ok(())
}

/// A compensation plan stored for `old` (`None`: new) and written for `new`. Managers set
/// their teams' members' plans, never their own (nobody sets their own pay: a manager's plan
/// is an admin's), and so cannot hand their own plan to someone else either; admins all.
pub fn comp_plan(
    p: &Principal,
    vis: &Visibility,
    old: Option<&str>,
    new: &str,
    subject: &str,
) -> Decision {
    if p.role == Role::Rep {
        return Err(forbidden("only managers and admins may set compensation plans"));
    }
    old_visible(vis, old)?;
    if p.role == Role::Manager && (old == Some(p.user_id.as_str()) || new == p.user_id) {
        return Err(forbidden("a manager's own compensation plan is set by an admin"));
    }
    if !vis.sees(new) || new == EVERYONE || new.starts_with("team:") {
        return Err(forbidden(format!(
            "'{subject}' is not you, your team or a member of a team you manage"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Workspace of the table: team east (manager park, reps kim and lee), team west (manager
    /// wu, rep zoe), admin root.
    fn principal(user: &str) -> (Principal, Visibility) {
        let (role, team) = match user {
            "kim" | "lee" => (Role::Rep, Some("east")),
            "zoe" => (Role::Rep, Some("west")),
            "park" => (Role::Manager, Some("east")),
            "wu" => (Role::Manager, Some("west")),
            _ => (Role::Admin, None),
        };
        let p = Principal {
            device_id: format!("{user}-phone"),
            user_id: user.into(),
            workspace_id: "w".into(),
            role,
            team_id: team.map(str::to_string),
            actor: "00".into(),
        };
        let owners = |o: &[&str]| Visibility::Owners(o.iter().map(|s| s.to_string()).collect());
        let vis = match user {
            "kim" => owners(&["kim", "team:east"]),
            "lee" => owners(&["lee", "team:east"]),
            "zoe" => owners(&["zoe", "team:west"]),
            "park" => owners(&["park", "kim", "lee", "team:east"]),
            "wu" => owners(&["wu", "zoe", "team:west"]),
            _ => Visibility::All,
        };
        (p, vis)
    }

    /// (writer, old owner or "-" for a new record, new owner, allowed?)
    type Row = (&'static str, &'static str, &'static str, bool);

    fn run(rows: &[Row], decide: impl Fn(&Principal, &Visibility, Option<&str>, &str) -> Decision) {
        for (who, old, new, allowed) in rows {
            let (p, vis) = principal(who);
            let old = (*old != "-").then_some(*old);
            let got = decide(&p, &vis, old, new);
            assert_eq!(got.is_ok(), *allowed, "{who}: {old:?} -> {new}: {got:?}");
            if let Err(r) = got {
                assert!(!r.message.is_empty());
            }
        }
    }

    #[test]
    fn leads() {
        run(
            &[
                // A rep creates and edits their own leads, nobody else's, and gives none away.
                ("kim", "-", "kim", true),
                ("kim", "kim", "kim", true),
                ("kim", "-", "lee", false),
                ("kim", "kim", "lee", false),
                ("kim", "kim", "park", false),
                ("kim", "lee", "lee", false),
                ("kim", "lee", "kim", false),
                ("kim", "zoe", "kim", false),
                // A manager: his teams' members and himself, across his teams only.
                ("park", "-", "kim", true),
                ("park", "-", "park", true),
                ("park", "kim", "lee", true),
                ("park", "kim", "park", true),
                ("park", "park", "kim", true),
                ("park", "kim", "zoe", false),
                ("park", "-", "zoe", false),
                ("park", "zoe", "kim", false),
                ("park", "zoe", "zoe", false),
                ("park", "kim", "wu", false),
                ("park", "kim", "root", false),
                // An admin: anyone.
                ("root", "-", "zoe", true),
                ("root", "kim", "zoe", true),
                ("root", "zoe", "root", true),
            ],
            lead,
        );
        let (p, vis) = principal("kim");
        assert!(lead(&p, &vis, Some("kim"), "lee").unwrap_err().message.contains("only managers"));
        assert_eq!(lead(&p, &vis, Some("lee"), "kim").unwrap_err(), not_yours());
    }

    #[test]
    fn edits_of_a_lead_given_away_meanwhile() {
        let (_, kim) = principal("kim");
        let (_, park) = principal("park");
        let seen = |o: &[&str]| o.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // (who, owners at the edits' dependencies, owner now, owner written, owner untouched,
        // allowed)
        type Row<'a> = (&'a Visibility, Vec<String>, &'a str, &'a str, bool, bool);
        let rows: &[Row] = &[
            // Kim edited her lead before her device learned it went to lee (or to zoe).
            (&kim, seen(&["kim"]), "lee", "lee", true, true),
            (&kim, seen(&["kim"]), "zoe", "zoe", true, true),
            // Her device had the change of hands: the edit builds on it.
            (&kim, seen(&["lee"]), "lee", "lee", true, false),
            (&kim, seen(&["kim", "lee"]), "lee", "lee", true, false),
            // She never had it, or the edit takes the lead back.
            (&kim, seen(&[]), "lee", "lee", true, false),
            (&kim, seen(&["kim"]), "lee", "kim", false, false),
            (&kim, seen(&["kim"]), "lee", "lee", false, false),
            // Park's team lead went to another team (an admin's move).
            (&park, seen(&["kim"]), "zoe", "zoe", true, true),
            (&park, seen(&["zoe"]), "zoe", "zoe", true, false),
        ];
        for (vis, seen, now, written, untouched, allowed) in rows {
            let got = lead_as_seen(vis, seen, now, written, *untouched);
            assert_eq!(got.is_ok(), *allowed, "{seen:?} {now} -> {written}: {got:?}");
        }
    }

    #[test]
    fn activities_of_a_lead_given_away_meanwhile() {
        let (_, kim) = principal("kim");
        // (owner when the device last pulled, lead exists, same lead, allowed)
        for (then, exists, same, allowed) in [
            (Some("kim"), true, true, true),
            // It has not changed hands since her last pull: the owner now decides (refused).
            (None, true, true, false),
            (Some("lee"), true, true, false),
            (Some("kim"), false, true, false),
            (Some("kim"), true, false, false),
        ] {
            assert_eq!(
                activity_as_seen(&kim, then, exists, same),
                allowed,
                "{then:?} {exists} {same}"
            );
        }
    }

    #[test]
    fn activities() {
        // (writer, lead owner before or "-", lead owner after or "?" for no such lead, allowed)
        run(
            &[
                ("kim", "-", "kim", true),
                ("kim", "kim", "kim", true),
                ("kim", "-", "lee", false),
                ("kim", "-", "?", false),
                ("kim", "lee", "kim", false),
                ("kim", "kim", "lee", false),
                ("park", "kim", "lee", true),
                ("park", "-", "park", true),
                ("park", "kim", "zoe", false),
                ("park", "zoe", "kim", false),
                ("root", "zoe", "kim", true),
                ("root", "-", "?", false),
            ],
            |_, vis, old, new| activity(vis, old, "lead-1", (new != "?").then_some(new)),
        );
        // A lead that is not yours and one that does not exist answer alike.
        let (_, vis) = principal("kim");
        assert_eq!(activity(&vis, None, "l", Some("lee")), activity(&vis, None, "l", None));
    }

    #[test]
    fn settings_are_for_managers_and_admins() {
        for (who, allowed) in [("kim", false), ("zoe", false), ("park", true), ("root", true)] {
            assert_eq!(settings(&principal(who).0).is_ok(), allowed, "{who}");
        }
    }

    #[test]
    fn targets() {
        run(
            &[
                ("kim", "-", "kim", false),
                ("kim", "kim", "kim", false),
                ("kim", "-", "team:east", false),
                ("park", "-", "kim", true),
                ("park", "-", "park", true),
                ("park", "-", "team:east", true),
                ("park", "kim", "lee", true),
                ("park", "team:east", "kim", true),
                ("park", "-", "zoe", false),
                ("park", "-", "team:west", false),
                ("park", "kim", "zoe", false),
                ("park", "zoe", "kim", false),
                ("park", "team:west", "team:east", false),
                ("park", "-", "*", false),
                ("wu", "-", "zoe", true),
                ("wu", "-", "kim", false),
                ("root", "-", "team:west", true),
                ("root", "zoe", "kim", true),
            ],
            |p, vis, old, new| target(p, vis, old, new, new),
        );
    }

    #[test]
    fn compensation_plans() {
        run(
            &[
                ("kim", "-", "kim", false),
                ("kim", "kim", "kim", false),
                ("park", "-", "kim", true),
                ("park", "kim", "kim", true),
                ("park", "kim", "lee", true),
                // Not his own, not even to hand it to a member of his team.
                ("park", "-", "park", false),
                ("park", "park", "park", false),
                ("park", "park", "kim", false),
                ("park", "kim", "park", false),
                ("park", "-", "zoe", false),
                ("park", "zoe", "kim", false),
                ("park", "kim", "zoe", false),
                ("park", "-", "team:east", false),
                ("wu", "park", "zoe", false),
                ("root", "-", "park", true),
                ("root", "park", "kim", true),
                ("root", "zoe", "root", true),
            ],
            |p, vis, old, new| comp_plan(p, vis, old, new, new),
        );
    }

    #[test]
    fn visibility_and_stamps() {
        let (_, vis) = principal("park");
        for (owner, seen) in
            [("kim", true), ("park", true), ("team:east", true), ("*", true), ("zoe", false)]
        {
            assert_eq!(vis.sees(owner), seen, "{owner}");
        }
        let owners = |o: &[&str]| Visibility::Owners(o.iter().map(|s| s.to_string()).collect());
        let a = owners(&["park", "ann", team_owner("t1").as_str()]);
        assert_eq!(
            a.stamp(),
            owners(&[team_owner("t1").as_str(), "ann", "park"]).stamp(),
            "independent of order"
        );
        assert_eq!(
            a.stamp(),
            owners(&["park", "ann", "new-rep", team_owner("t1").as_str()]).stamp(),
            "a new member changes nothing"
        );
        assert_ne!(
            a.stamp(),
            owners(&["park", "ann", team_owner("t1").as_str(), team_owner("t2").as_str()]).stamp(),
            "a new team does"
        );
        assert_eq!(Visibility::All.stamp(), "all");
    }
}
