//! Convergence through the real server: 2 workspaces, 10 devices (reps with a phone and a
//! tablet, managers, admins), 200 offline edits per device on overlapping leads, then syncs in
//! random orders, twice. Every device ends with documents and projections identical to the
//! server's for every lead it may see, and sees nothing else.

mod common;
use common::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};

const EDITS_PER_DEVICE: usize = 200;

fn random_edit(d: &Device, rng: &mut StdRng, tag_pool: &[&str]) {
    let leads = d.list_leads(&LeadQuery { limit: 500, ..Default::default() }).unwrap().items;
    if leads.is_empty() || rng.random_bool(0.05) {
        d.owned(&format!("New {}", rng.random::<u16>()), d.user_id());
        return;
    }
    let l = &leads[rng.random_range(0..leads.len())];
    let r: u8 = rng.random_range(0..8);
    let patch = match r {
        0 => LeadPatch {
            company: Some(format!("Co {}", rng.random_range(0..5))),
            ..Default::default()
        },
        1 => LeadPatch { stage: Some(Stage::ALL[rng.random_range(0..5)]), ..Default::default() },
        2 => LeadPatch {
            add_tags: vec![tag_pool[rng.random_range(0..tag_pool.len())].into()],
            ..Default::default()
        },
        3 => LeadPatch {
            remove_tags: vec![tag_pool[rng.random_range(0..tag_pool.len())].into()],
            ..Default::default()
        },
        4 => {
            let notes = d.lead(&l.id).unwrap().notes;
            let mut chars: Vec<char> = notes.chars().collect();
            let at = rng.random_range(0..=chars.len());
            chars.splice(at..at, format!(" {}", rng.random_range(0..100)).chars());
            LeadPatch { notes: Some(chars.into_iter().collect()), ..Default::default() }
        }
        5 => LeadPatch {
            deal_value: Some(Money {
                amount_minor: rng.random_range(0..10_000_000),
                currency: "KRW".into(),
            }),
            ..Default::default()
        },
        6 => {
            d.add_activity(ActivityDraft::new(
                &l.id,
                ActivityKind::ALL[rng.random_range(0..6)],
                "touch",
            ))
            .unwrap();
            return;
        }
        _ => LeadPatch {
            potential: Some(Potential::ALL[rng.random_range(0..3)]),
            ..Default::default()
        },
    };
    d.update_lead(&l.id, patch).unwrap();
}

fn view(d: &Device, ids: &[String]) -> Vec<(Vec<String>, Lead, Vec<Activity>, LeadSummary)> {
    ids.iter()
        .map(|id| {
            let detail = d.lead_detail(id).unwrap();
            let row = d
                .list_leads(&LeadQuery { limit: 500, ..Default::default() })
                .unwrap()
                .items
                .into_iter()
                .find(|r| &r.id == id)
                .unwrap();
            (d.document_heads(id).unwrap(), detail.lead, detail.activities, row)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_devices_in_two_workspaces_converge_after_random_syncs() {
    let s = Server::start().await;
    let mut rng = StdRng::seed_from_u64(0x5eed_f1e1d);
    let tag_pool = ["expo", "vip", "q1", "partner"];
    let mut all: Vec<(String, Device)> = Vec::new();
    let mut admins = Vec::new();
    for ws_name in ["acme", "globex"] {
        let ws = s.workspace(ws_name);
        s.team(&ws, "field");
        for rep in ["rep-a", "rep-b"] {
            for _device in ["phone", "tablet"] {
                all.push((ws.clone(), s.device(&ws, rep, Role::Rep, Some("field")).await));
            }
        }
        all.push((ws.clone(), s.device(&ws, "lead-manager", Role::Manager, Some("field")).await));
        admins.push((ws.clone(), s.device(&ws, "auditor", Role::Admin, None).await));
    }
    assert_eq!(all.len(), 10);
    // Seed: each rep's phone captures a few leads; everyone syncs so edits overlap.
    for (_, d) in all.iter().filter(|(_, d)| d.user_id() != "lead-manager").step_by(2) {
        for i in 0..4 {
            d.owned(&format!("{} lead {i}", d.user_id()), d.user_id());
        }
    }
    for _ in 0..2 {
        for (_, d) in &all {
            d.sync().await.unwrap();
        }
    }
    // Offline: 200 edits per device.
    for (_, d) in &all {
        for _ in 0..EDITS_PER_DEVICE {
            random_edit(d, &mut rng, &tag_pool);
        }
    }
    // Two rounds of syncs in random orders.
    for _ in 0..2 {
        let mut order: Vec<usize> = (0..all.len()).collect();
        order.shuffle(&mut rng);
        for i in order {
            let sum = all[i].1.sync().await.unwrap();
            assert_eq!(sum.rejected, 0, "a permitted edit was refused");
        }
    }
    for (ws, admin) in &admins {
        admin.sync().await.unwrap();
        let server_ids = admin.lead_ids();
        for (dws, d) in all.iter().filter(|(w, _)| w == ws) {
            assert_eq!(dws, ws);
            let visible: Vec<String> = server_ids
                .iter()
                .filter(|id| {
                    d.user_id() == "lead-manager" || admin.lead(id).unwrap().owner == d.user_id()
                })
                .cloned()
                .collect();
            assert!(!visible.is_empty());
            assert_eq!(d.lead_ids(), visible, "{} holds exactly what it may see", d.user_id());
            assert_eq!(
                view(d, &visible),
                view(admin, &visible),
                "{} differs from the server",
                d.user_id()
            );
            assert_eq!(d.outbox_len().unwrap(), 0);
            assert_eq!(d.pending_len().unwrap(), 0);
            assert!(d.verify().unwrap().is_ok());
        }
    }
    // Every document every device holds (leads, activities, settings) is the server's own copy:
    // the same heads, so the same history; and no change is stored twice on the server.
    let server = server_documents(&s);
    let dups = feed_duplicates(&s);
    assert!(dups.is_empty(), "changes stored twice on the server: {dups:?}");
    for (_, d) in all.iter().chain(admins.iter()) {
        let held = d.document_ids().unwrap();
        assert!(held.len() > d.lead_ids().len(), "{} holds activities too", d.user_id());
        for (id, _) in held {
            let (heads, _) = server
                .get(&id)
                .unwrap_or_else(|| panic!("{}: document {id} is not on the server", d.user_id()));
            assert_eq!(
                &d.document_heads(&id).unwrap(),
                heads,
                "{}: document {id} differs from the server's",
                d.user_id()
            );
        }
    }
    // Nothing crossed workspaces.
    let (a, b) = (admins[0].1.lead_ids(), admins[1].1.lead_ids());
    assert!(a.iter().all(|id| !b.contains(id)));
}
