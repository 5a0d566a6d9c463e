//! The security matrix over a real server: role (rep, manager, admin) × kind (lead, activity,
//! settings, target, comp_plan) × action (create, edit, reassign or move) × old owner × new
//! owner (self, a member of the writer's team, another team's, a manager, the admin, a team),
//! each push asserted accepted or refused with its code; then every user's pull, from the start
//! and from a cursor taken before, returns exactly the records their role lets them see now.
//!
//! The expected answers are the tables of docs/protocol.md's "Who sees what", written out here
//! on their own (`sees`, `may_write`), not taken from the server's code.

mod common;
use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use common::*;
use fieldsales_core::sync::protocol::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;

/// Team east: manager park, reps kim and lee. Team west: manager wu, rep zoe. Admin root.
const USERS: [&str; 6] = ["kim", "lee", "zoe", "park", "wu", "root"];

fn role(u: &str) -> Role {
    match u {
        "kim" | "lee" | "zoe" => Role::Rep,
        "park" | "wu" => Role::Manager,
        _ => Role::Admin,
    }
}

fn team(u: &str) -> Option<&'static str> {
    match u {
        "kim" | "lee" | "park" => Some("east"),
        "zoe" | "wu" => Some("west"),
        _ => None,
    }
}

/// Whether `user` sees a record owned by `owner` (a user, `team:<name>`, or `*`): protocol.md's
/// "Who sees what".
fn sees(user: &str, owner: &str) -> bool {
    if owner == "*" || role(user) == Role::Admin || owner == user {
        return true;
    }
    if let Some(t) = owner.strip_prefix("team:") {
        return team(user) == Some(t);
    }
    role(user) == Role::Manager && team(owner).is_some() && team(owner) == team(user)
}

/// Whether `user` may write a record of `kind` stored for `old` (`None`: new) so that it is
/// for `new`.
fn may_write(user: &str, kind: DocKind, old: Option<&str>, new: &str) -> bool {
    let both_seen = old.is_none_or(|o| sees(user, o)) && sees(user, new);
    match (kind, role(user)) {
        (DocKind::Settings, r) => r != Role::Rep,
        (_, Role::Admin) => true,
        (DocKind::Lead, Role::Rep) => old.is_none_or(|o| o == user) && new == user,
        (DocKind::Lead, Role::Manager) => both_seen,
        (DocKind::Activity, _) => both_seen,
        (DocKind::Target | DocKind::CompPlan, Role::Rep) => false,
        (DocKind::Target, Role::Manager) => both_seen,
        (DocKind::CompPlan, Role::Manager) => {
            both_seen
                && old != Some(user)
                && new != user
                && !new.starts_with("team:")
                && !old.is_some_and(|o| o.starts_with("team:"))
        }
    }
}

struct Writer {
    token: String,
    actor: ActorId,
}

const NOW: i64 = 1_793_577_600_000;

async fn push(
    url: &str,
    token: &str,
    doc_id: &str,
    kind: DocKind,
    change: Vec<u8>,
) -> PushResponse {
    post_push(url, token, push_request(vec![(doc_id, kind, change)])).await
}

fn last_change(doc: &mut AutoCommit) -> Vec<u8> {
    doc.get_last_local_change().unwrap().raw_bytes().to_vec()
}

/// A new record of `kind` for `owner`, as `user` writes it: its id and first change. An
/// activity goes on `lead`.
fn create(kind: DocKind, owner: &str, w: &Writer, user: &str, lead: &str) -> (String, Vec<u8>) {
    let id = if kind == DocKind::Settings {
        doc::settings::SETTINGS_ID.to_string()
    } else {
        model::new_id()
    };
    let a = w.actor.clone();
    let mut d = match kind {
        DocKind::Lead => {
            let draft = LeadDraft {
                name: Some("Matrix".into()),
                owner: Some(owner.into()),
                ..Default::default()
            };
            doc::lead::create(a, &id, &draft, user, NOW).unwrap()
        }
        DocKind::Activity => doc::activity::create(
            a,
            &id,
            &ActivityDraft::new(lead, ActivityKind::Call, "x"),
            user,
            NOW,
        )
        .unwrap(),
        DocKind::Settings => {
            doc::settings::create(a, Stage::New, &StagePatch::default(), user, NOW).unwrap()
        }
        DocKind::Target => {
            let (subject_kind, subject) = match owner.strip_prefix("team:") {
                Some(t) => (SubjectKind::Team, t),
                None => (SubjectKind::Rep, owner),
            };
            let draft = TargetDraft {
                id: None,
                subject_kind,
                subject: subject.into(),
                metric: TargetMetric::DealsWon,
                period_start: NOW,
                period_end: NOW + 1_000,
                value: 3,
                currency: None,
            };
            doc::target::create(a, &id, &draft, user, NOW).unwrap()
        }
        DocKind::CompPlan => {
            let draft = CompPlanDraft {
                rep: owner.into(),
                base: Money { amount_minor: 100, currency: "USD".into() },
                rate_bp: 500,
                tiers: vec![],
            };
            doc::plan::create(a, &id, &draft, user, NOW).unwrap()
        }
    };
    let change = last_change(&mut d);
    (id, change)
}

/// An edit of a stored record by `w`: to `new` (its owner, subject, rep or lead), or a plain
/// field when `new` is `None`.
fn edit(stored: &[u8], kind: DocKind, w: &Writer, user: &str, new: Option<&str>) -> Vec<u8> {
    let mut d = AutoCommit::load(stored).unwrap();
    d.set_actor(w.actor.clone());
    match (kind, new) {
        (DocKind::Lead, None) => {
            doc::lead::apply_patch(
                &mut d,
                &LeadPatch { title: Some("CTO".into()), ..Default::default() },
                user,
                NOW,
            )
            .unwrap();
        }
        (DocKind::Lead, Some(o)) => {
            doc::lead::apply_patch(
                &mut d,
                &LeadPatch { owner: Some(o.into()), ..Default::default() },
                user,
                NOW,
            )
            .unwrap();
        }
        (DocKind::Activity, None) => {
            doc::activity::apply_patch(
                &mut d,
                &ActivityPatch { subject: Some("y".into()), ..Default::default() },
                user,
                NOW,
            )
            .unwrap();
        }
        (DocKind::Activity, Some(lead)) => {
            doc::activity::move_to_lead(&mut d, lead, user, NOW).unwrap();
        }
        (DocKind::Settings, _) => {
            doc::settings::patch(
                &mut d,
                Stage::Proposal,
                // Another value per writer, so that each edit changes something.
                &StagePatch {
                    probability_bp: Some(4_000 + user.len() as u32 + user.as_bytes()[0] as u32),
                    ..Default::default()
                },
                user,
                NOW,
            )
            .unwrap();
        }
        (DocKind::Target, None) => {
            doc::target::set_value(&mut d, 9, None, user, NOW).unwrap();
        }
        (DocKind::Target, Some(o)) => {
            match o.strip_prefix("team:") {
                Some(t) => {
                    d.put(&ROOT, "subject_kind", "team").unwrap();
                    d.put(&ROOT, "subject", t).unwrap();
                }
                None => {
                    d.put(&ROOT, "subject_kind", "rep").unwrap();
                    d.put(&ROOT, "subject", o).unwrap();
                }
            }
            d.put(&ROOT, "updated_by", user).unwrap();
        }
        (DocKind::CompPlan, new) => {
            match new {
                Some(o) => d.put(&ROOT, "rep", o).unwrap(),
                None => d.put(&ROOT, "rate_bp", 700).unwrap(),
            }
            d.put(&ROOT, "updated_by", user).unwrap();
        }
    }
    d.commit();
    last_change(&mut d)
}

fn stored(s: &Server, id: &str) -> Vec<u8> {
    stored_document(s, id)
}

async fn pull_all(url: &str, token: &str, mut cursor: String) -> (Vec<PullItem>, String) {
    let mut items = Vec::new();
    loop {
        let page = post_pull(url, token, &cursor, 500).await;
        items.extend(page.items);
        cursor = page.cursor;
        if !page.more {
            return (items, cursor);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_kind_action_and_owner_is_decided_as_the_tables_say() {
    let s = Server::start_rate_limited(100_000, 100_000).await;
    let ws = s.workspace("acme");
    s.team(&ws, "east");
    s.team(&ws, "west");
    let mut writers: BTreeMap<&str, Writer> = BTreeMap::new();
    let mut devices = BTreeMap::new();
    for u in USERS {
        let d = s.device(&ws, u, role(u), team(u)).await;
        writers.insert(
            u,
            Writer { token: d.token(), actor: ActorId::try_from(d.actor_id().as_str()).unwrap() },
        );
        devices.insert(u, d);
    }
    // Each user's cursor before anything exists: their pull from it must not bring more than
    // their role lets them see at the end.
    let mut before = BTreeMap::new();
    for u in USERS {
        let (items, cursor) = pull_all(&s.url, &writers[u].token, String::new()).await;
        assert!(items.is_empty());
        before.insert(u, cursor);
    }
    let root = &writers["root"];
    // Every record the matrix leaves on the server, with its owner (as `sees` names it).
    let mut records: BTreeMap<String, String> = BTreeMap::new();
    // A lead for `owner`, stored by the admin; its id.
    let lead_for = |owner: &str| {
        let (id, change) = create(DocKind::Lead, owner, root, "root", "");
        let (url, token) = (s.url.clone(), root.token.clone());
        async move {
            let r = push(&url, &token, &id, DocKind::Lead, change).await;
            assert_eq!(r.accepted.len(), 1, "{:?}", r.rejected);
            id
        }
    };

    let user_owners = ["kim", "lee", "zoe", "park", "root"];
    let mut rows = 0usize;
    let mut failures = Vec::new();
    for writer in ["kim", "park", "root"] {
        let w = &writers[writer];
        for kind in [DocKind::Lead, DocKind::Activity, DocKind::Target, DocKind::CompPlan] {
            let mut owners: Vec<String> = user_owners.iter().map(|o| o.to_string()).collect();
            if kind == DocKind::Target {
                owners.extend(["team:east".to_string(), "team:west".to_string()]);
            }
            // Create: (none) -> new.
            for new in &owners {
                let lead =
                    if kind == DocKind::Activity { lead_for(new).await } else { String::new() };
                if kind == DocKind::Activity {
                    records.insert(lead.clone(), new.clone());
                }
                let (id, change) = create(kind, new, w, writer, &lead);
                let r = push(&s.url, &w.token, &id, kind, change).await;
                let want = may_write(writer, kind, None, new);
                rows += 1;
                let code = r.rejected.first().map(|r| r.code.clone());
                let expected_code =
                    if kind == DocKind::Activity { "unknown_lead" } else { "forbidden" };
                if want != r.accepted.is_empty() && (want || code.as_deref() == Some(expected_code))
                {
                    if want {
                        records.insert(id, new.clone());
                    }
                } else {
                    failures.push(format!(
                        "{writer} create {kind:?} for {new}: expected {}, got {:?}",
                        if want { "accepted" } else { expected_code },
                        r.rejected
                    ));
                }
            }
            // Edit (old == new) and reassign or move (old != new), on a record the admin stored.
            for old in &owners {
                for new in &owners {
                    let (id, change) = if kind == DocKind::Activity {
                        let lead = lead_for(old).await;
                        records.insert(lead.clone(), old.clone());
                        create(kind, old, root, "root", &lead)
                    } else {
                        create(kind, old, root, "root", "")
                    };
                    let r = push(&s.url, &root.token, &id, kind, change).await;
                    assert_eq!(r.accepted.len(), 1, "seed {kind:?} for {old}: {:?}", r.rejected);
                    let target_lead = if kind == DocKind::Activity && old != new {
                        let l = lead_for(new).await;
                        records.insert(l.clone(), new.clone());
                        Some(l)
                    } else {
                        None
                    };
                    let to = match (kind, old == new) {
                        (_, true) => None,
                        (DocKind::Activity, false) => target_lead.as_deref(),
                        (_, false) => Some(new.as_str()),
                    };
                    let change = edit(&stored(&s, &id), kind, w, writer, to);
                    let r = push(&s.url, &w.token, &id, kind, change).await;
                    let want = may_write(writer, kind, Some(old), new);
                    rows += 1;
                    let code = r.rejected.first().map(|r| r.code.clone());
                    // Someone else's record answers as a missing one: the edit builds on a
                    // change the writer may not see.
                    let expected_code = if !sees(writer, old) {
                        "missing_dependencies"
                    } else if kind == DocKind::Activity {
                        "unknown_lead"
                    } else {
                        "forbidden"
                    };
                    let ok = if want {
                        !r.accepted.is_empty()
                    } else {
                        r.accepted.is_empty() && code.as_deref() == Some(expected_code)
                    };
                    if !ok {
                        failures.push(format!(
                            "{writer} {} {kind:?} {old} -> {new}: expected {}, got {:?}",
                            if old == new { "edit" } else { "move" },
                            if want { "accepted" } else { expected_code },
                            r.rejected
                        ));
                    }
                    records.insert(id, if want { new.clone() } else { old.clone() });
                }
            }
        }
    }
    // Settings: everyone's; managers and admins write them. A rep may not create them.
    let (id, change) = create(DocKind::Settings, "*", &writers["kim"], "kim", "");
    let r = push(&s.url, &writers["kim"].token, &id, DocKind::Settings, change).await;
    assert_eq!(r.rejected.first().map(|r| r.code.as_str()), Some("forbidden"));
    let (id, change) = create(DocKind::Settings, "*", root, "root", "");
    assert_eq!(push(&s.url, &root.token, &id, DocKind::Settings, change).await.accepted.len(), 1);
    rows += 2;
    for writer in ["park", "root", "kim"] {
        let w = &writers[writer];
        let change = edit(&stored(&s, &id), DocKind::Settings, w, writer, None);
        let r = push(&s.url, &w.token, &id, DocKind::Settings, change).await;
        rows += 1;
        let want = may_write(writer, DocKind::Settings, Some("*"), "*");
        assert_eq!(!r.accepted.is_empty(), want, "{writer} edits the settings: {:?}", r.rejected);
        if !want {
            assert_eq!(r.rejected[0].code, "forbidden");
        }
    }
    records.insert(doc::settings::SETTINGS_ID.to_string(), "*".to_string());
    assert!(
        failures.is_empty(),
        "{} of {rows} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(rows > 250, "{rows} rows");

    // Read via pull: from the start, and from a cursor taken before everything.
    let team_id = |name: &str| {
        let sql = format!("SELECT id FROM teams WHERE name = '{name}'");
        s.db.rows2(&sql, &sql).remove(0)
    };
    let (east, west) = (team_id("east"), team_id("west"));
    let server_owner = |o: &str| match o {
        "team:east" => format!("team:{east}"),
        "team:west" => format!("team:{west}"),
        o => o.to_string(),
    };
    let on_server: BTreeMap<String, String> = {
        let sql = "SELECT id || ' ' || owner FROM documents";
        s.db.rows2(sql, sql)
            .into_iter()
            .map(|r| {
                let (id, owner) = r.split_once(' ').unwrap();
                (id.to_string(), owner.to_string())
            })
            .collect()
    };
    let mine: BTreeMap<String, String> =
        records.iter().map(|(id, o)| (id.clone(), server_owner(o))).collect();
    assert_eq!(on_server, mine, "the server holds what the matrix expects, owners included");
    for u in USERS {
        let expected: BTreeSet<String> =
            records.iter().filter(|(_, o)| sees(u, o)).map(|(id, _)| id.clone()).collect();
        let (items, _) = pull_all(&s.url, &writers[u].token, String::new()).await;
        let got: BTreeSet<String> = items
            .iter()
            .map(|i| match i {
                PullItem::Snapshot { doc_id, .. } => doc_id.clone(),
                other => panic!("{u}: a bootstrap sends snapshots only: {other:?}"),
            })
            .collect();
        assert_eq!(got, expected, "{u}'s bootstrap");
        let (items, _) = pull_all(&s.url, &writers[u].token, before[u].clone()).await;
        for i in &items {
            if let PullItem::Changes { doc_id, .. } | PullItem::Snapshot { doc_id, .. } = i {
                assert!(expected.contains(doc_id), "{u}'s feed sent {doc_id}, not theirs now");
            }
        }
    }
}
