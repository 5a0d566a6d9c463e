//! Property: 2–5 replicas make random edits on overlapping leads and exchange their changes in
//! random orders, in random chunks, with duplicates. Afterwards every replica holds identical
//! documents and identical projections.

use fieldsales_core::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use testkit::*;

#[derive(Clone, Debug)]
enum Edit {
    Name(String),
    Company(String),
    Stage(Stage),
    AddTag(u8),
    RemoveTag(u8),
    Notes(usize, String),
    Value(i64),
    Delete(bool),
    Activity(ActivityKind),
    CompleteActivity(usize),
}

#[derive(Clone, Debug)]
enum Op {
    Create { replica: usize },
    Edit { replica: usize, lead: usize, edit: Edit },
    Deliver { from: usize, to: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        "[a-z가-힣 ]{1,8}".prop_map(Edit::Name),
        "[A-Z][a-z]{0,6}".prop_map(Edit::Company),
        prop::sample::select(Stage::ALL.to_vec()).prop_map(Edit::Stage),
        (0u8..4).prop_map(Edit::AddTag),
        (0u8..4).prop_map(Edit::RemoveTag),
        (0usize..40, "[a-z😀 ]{0,5}").prop_map(|(p, t)| Edit::Notes(p, t)),
        (0i64..1_000_000).prop_map(Edit::Value),
        any::<bool>().prop_map(Edit::Delete),
        prop::sample::select(ActivityKind::ALL.to_vec()).prop_map(Edit::Activity),
        (0usize..8).prop_map(Edit::CompleteActivity),
    ]
}

fn op(replicas: usize) -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0..replicas).prop_map(|replica| Op::Create { replica }),
        5 => (0..replicas, 0usize..6, edit()).prop_map(|(replica, lead, edit)| Op::Edit { replica, lead, edit }),
        2 => (0..replicas, 0..replicas).prop_map(|(from, to)| Op::Deliver { from, to }),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Op>, u64)> {
    (2usize..=5).prop_flat_map(|n| (Just(n), prop::collection::vec(op(n), 1..40), any::<u64>()))
}

/// Sends `from`'s own changes to `to`, shuffled, some twice, in chunks of random size.
fn deliver(from: &Store, to: &Store, rng: &mut StdRng) {
    let mut items: Vec<PullApply> = from
        .outbox(0, u32::MAX)
        .unwrap()
        .into_iter()
        .map(|e| PullApply::Changes { doc_id: e.doc_id, kind: e.kind, changes: vec![e.change] })
        .collect();
    let dups: Vec<PullApply> = items.iter().filter(|_| rng.random_bool(0.3)).cloned().collect();
    items.extend(dups);
    items.shuffle(rng);
    while !items.is_empty() {
        let n = rng.random_range(1..=items.len());
        let chunk: Vec<PullApply> = items.drain(..n).collect();
        to.apply_remote(chunk).unwrap();
    }
}

fn apply_edit(s: &Store, lead_id: &str, e: &Edit, activities: &mut Vec<String>) {
    let Ok(lead) = s.lead(lead_id) else { return };
    let patch = match e {
        Edit::Name(n) => LeadPatch { name: Some(n.clone()), ..Default::default() },
        Edit::Company(c) => LeadPatch { company: Some(c.clone()), ..Default::default() },
        Edit::Stage(st) => LeadPatch { stage: Some(*st), ..Default::default() },
        Edit::AddTag(t) => LeadPatch { add_tags: vec![format!("tag{t}")], ..Default::default() },
        Edit::RemoveTag(t) => {
            LeadPatch { remove_tags: vec![format!("tag{t}")], ..Default::default() }
        }
        Edit::Notes(pos, text) => {
            let mut chars: Vec<char> = lead.notes.chars().collect();
            let p = (*pos).min(chars.len());
            chars.splice(p..p, text.chars());
            LeadPatch { notes: Some(chars.into_iter().collect()), ..Default::default() }
        }
        Edit::Value(v) => LeadPatch {
            deal_value: Some(Money { amount_minor: *v, currency: "KRW".into() }),
            ..Default::default()
        },
        Edit::Delete(true) => {
            s.delete_lead(lead_id).unwrap();
            return;
        }
        Edit::Delete(false) => {
            s.restore_lead(lead_id).unwrap();
            return;
        }
        Edit::Activity(kind) => {
            let a = s.add_activity(ActivityDraft::new(lead_id, *kind, "visit")).unwrap();
            activities.push(a.id);
            return;
        }
        Edit::CompleteActivity(i) => {
            if let Some(id) = activities.get(*i)
                && s.activity(id).is_ok()
            {
                s.complete_activity(id).unwrap();
            }
            return;
        }
    };
    match s.update_lead(lead_id, patch) {
        // Clearing the last identifying field is refused; that is fine here.
        Ok(_) | Err(Error::Validation(ValidationError::EmptyLead)) => {}
        Err(e) => panic!("edit failed: {e}"),
    }
}

/// Everything observable about a replica: documents with their heads, full records, and every
/// projection row (live and deleted leads).
type Replica = (Vec<(String, Vec<String>)>, Vec<Lead>, Vec<Activity>, Vec<LeadSummary>);

fn snapshot(s: &Store) -> Replica {
    let mut docs = Vec::new();
    let mut leads = Vec::new();
    let mut acts = Vec::new();
    for (id, kind) in s.document_ids().unwrap() {
        docs.push((id.clone(), s.document_heads(&id).unwrap()));
        match kind {
            DocKind::Lead => leads.push(s.lead(&id).unwrap()),
            DocKind::Activity => acts.push(s.activity(&id).unwrap()),
            DocKind::Settings | DocKind::Target | DocKind::CompPlan => {}
        }
    }
    let mut rows = Vec::new();
    for deleted in [false, true] {
        let mut q = LeadQuery { deleted, limit: 500, sort: LeadSort::Name, ..Default::default() };
        loop {
            let p = s.list_leads(&q).unwrap();
            rows.extend(p.items);
            match p.next {
                Some(c) => q.after = Some(c),
                None => break,
            }
        }
    }
    (docs, leads, acts, rows)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, max_shrink_iters: 200, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_whatever_the_delivery_order((n, ops, seed) in scenario()) {
        let replicas: Vec<TestStore> = (0..n).map(|i| store(&format!("rep-{i}"))).collect();
        let mut rng = StdRng::seed_from_u64(seed);
        let mut leads: Vec<String> = Vec::new();
        let mut activities: Vec<String> = Vec::new();
        // Every scenario starts with one shared lead so that edits overlap.
        leads.push(replicas[0].create_lead(lead("Shared")).unwrap().id);
        for r in &replicas[1..] {
            deliver(&replicas[0], r, &mut rng);
        }
        for op in &ops {
            match op {
                Op::Create { replica } => {
                    leads.push(replicas[*replica].create_lead(lead(&format!("Lead {}", leads.len()))).unwrap().id);
                }
                Op::Edit { replica, lead, edit } => {
                    let id = &leads[*lead % leads.len()];
                    apply_edit(&replicas[*replica], id, edit, &mut activities);
                }
                Op::Deliver { from, to } => {
                    if from != to {
                        deliver(&replicas[*from], &replicas[*to], &mut rng);
                    }
                }
            }
        }
        for from in &replicas {
            for to in &replicas {
                if !std::ptr::eq(from, to) {
                    deliver(from, to, &mut rng);
                }
            }
        }
        let first = snapshot(&replicas[0]);
        prop_assert!(!first.1.is_empty());
        for r in &replicas {
            prop_assert_eq!(r.pending_len().unwrap(), 0);
            let v = r.verify().unwrap();
            prop_assert!(v.projection_mismatches.is_empty() && v.problems.is_empty(), "{:?}", v);
            let snap = snapshot(r);
            prop_assert_eq!(&snap.0, &first.0, "documents or heads differ");
            prop_assert_eq!(&snap.1, &first.1, "leads differ");
            prop_assert_eq!(&snap.2, &first.2, "activities differ");
            prop_assert_eq!(&snap.3, &first.3, "projections differ");
        }
    }
}
