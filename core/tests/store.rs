//! The store through its public API: capture, edit, queries, validation, persistence.

use fieldsales_core::*;
use testkit::*;

fn count(s: &Store) -> usize {
    let mut n = 0;
    let mut q = LeadQuery { limit: 500, ..Default::default() };
    loop {
        let p = s.list_leads(&q).unwrap();
        n += p.items.len();
        match p.next {
            Some(c) => q.after = Some(c),
            None => return n,
        }
    }
}

#[test]
fn a_captured_lead_reads_back_with_every_field_normalised() {
    let s = store("rep-kim");
    let l = s
        .create_lead(LeadDraft {
            name: Some(" 김민지 ".into()),
            company: Some("Acme Korea".into()),
            title: Some("구매 담당".into()),
            emails: vec!["MinJi.Kim@Acme.co.kr".into()],
            phones: vec!["010-1234-5678".into(), "+1 415 555 2671".into()],
            event: Some("Seoul Expo 2026".into()),
            channel: Some(CaptureChannel::BadgeScan),
            potential: Some(Potential::Hot),
            deal_value: Some(Money { amount_minor: 15_000_000, currency: "krw".into() }),
            tags: vec!["expo".into(), "vip".into(), "expo".into()],
            notes: Some("Booth 12 방문 🎉".into()),
            custom_fields: vec![CustomField { key: "badge".into(), value: "A-113".into() }],
            next_follow_up: Some(T0 + 86_400_000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(l.name.as_deref(), Some("김민지"));
    assert_eq!(l.emails, vec!["minji.kim@acme.co.kr"]);
    assert_eq!(l.phones, vec!["+821012345678", "+14155552671"]);
    assert_eq!(l.deal_value, Some(Money { amount_minor: 15_000_000, currency: "KRW".into() }));
    assert_eq!(l.tags, vec!["expo", "vip"]);
    assert_eq!(l.owner, "rep-kim");
    assert_eq!(l.stage, Stage::New);
    assert_eq!(l.stage_history.len(), 1);
    assert_eq!(l.stage_history[0].by, "rep-kim");
    assert_eq!(l.created_at, l.updated_at);
    assert_eq!(s.lead(&l.id).unwrap(), l, "the document reads back as created");
    uuid_v7(&l.id);
    assert_eq!(s.outbox_len().unwrap(), 1);
    let row = &s.list_leads(&LeadQuery::default()).unwrap().items[0];
    assert_eq!(row.display_name, "김민지");
    assert_eq!(row.phone.as_deref(), Some("+821012345678"));
    assert_eq!(row.event.as_deref(), Some("Seoul Expo 2026"));
    assert!(s.verify().unwrap().projection_mismatches.is_empty());
}

fn uuid_v7(id: &str) {
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "7", "{id} is not a UUIDv7");
}

#[test]
fn rejected_input_writes_nothing_and_says_what_to_fix() {
    let s = store("rep");
    let l = s.create_lead(lead("Existing")).unwrap();
    let before = (s.outbox_len().unwrap(), count(&s), s.lead(&l.id).unwrap());
    let cases: Vec<(LeadDraft, &str)> = vec![
        (LeadDraft::default(), "at least a name"),
        (LeadDraft { emails: vec!["kim@".into()], ..lead("x") }, "not a valid e-mail"),
        (LeadDraft { phones: vec!["12".into()], ..lead("x") }, "not a valid phone number"),
        (
            LeadDraft {
                deal_value: Some(Money { amount_minor: 5, currency: "WON".into() }),
                ..lead("x")
            },
            "ISO 4217",
        ),
        (LeadDraft { name: Some("x".repeat(201)), ..Default::default() }, "too long"),
    ];
    for (d, msg) in cases {
        let e = s.create_lead(d).unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{e:?}");
        assert!(e.to_string().contains(msg), "'{e}' lacks '{msg}'");
    }
    // A batch with one bad draft writes none of the good ones.
    let e = s
        .create_leads(vec![
            lead("a"),
            lead("b"),
            LeadDraft { emails: vec!["bad".into()], ..Default::default() },
        ])
        .unwrap_err();
    assert!(matches!(e, Error::Validation(ValidationError::Email(_))));
    // Edits: clearing the only identifying field, or a bad phone.
    let e = s
        .update_lead(&l.id, LeadPatch { clear: vec![LeadField::Name], ..Default::default() })
        .unwrap_err();
    assert!(matches!(e, Error::Validation(ValidationError::EmptyLead)), "{e:?}");
    let e = s
        .update_lead(
            &l.id,
            LeadPatch {
                phones: Some(vec!["abc".into()]),
                company: Some("Co".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::Validation(ValidationError::Phone { .. })));
    assert!(matches!(
        s.update_lead(&new_id(), LeadPatch { name: Some("x".into()), ..Default::default() }),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(s.lead("nope"), Err(Error::Validation(_))));
    let e = s.add_activity(ActivityDraft::new(new_id(), ActivityKind::Call, "x")).unwrap_err();
    assert!(matches!(e, Error::NotFound { kind: "lead", .. }));
    let e = s
        .add_activity(ActivityDraft {
            location: Some(Location { lat: 91.0, lon: 0.0, accuracy_m: None }),
            ..ActivityDraft::new(&l.id, ActivityKind::Visit, "x")
        })
        .unwrap_err();
    assert!(e.to_string().contains("location"));
    let e = s.create_lead(LeadDraft { id: Some(l.id.clone()), ..lead("dup") }).unwrap_err();
    assert!(matches!(e, Error::Exists { .. }));
    assert_eq!((s.outbox_len().unwrap(), count(&s), s.lead(&l.id).unwrap()), before);
    assert!(s.verify().unwrap().projection_mismatches.is_empty());
}

#[test]
fn edits_write_only_what_changed() {
    let s = store("rep");
    let l = s.create_lead(LeadDraft { company: Some("Acme".into()), ..lead("Kim") }).unwrap();
    let same = s
        .update_lead(&l.id, LeadPatch { company: Some("Acme".into()), ..Default::default() })
        .unwrap();
    assert_eq!(same, l, "an edit that changes nothing writes nothing");
    assert_eq!(s.outbox_len().unwrap(), 1);
    let e = s
        .update_lead(
            &l.id,
            LeadPatch {
                stage: Some(Stage::Lost),
                lost_reason: Some("budget".into()),
                set_custom_fields: vec![CustomField { key: "size".into(), value: "50".into() }],
                clear: vec![LeadField::Company],
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(e.company, None);
    assert_eq!((e.stage, e.lost_reason.as_deref()), (Stage::Lost, Some("budget")));
    assert_eq!(e.stage_history.last().unwrap().lost_reason.as_deref(), Some("budget"));
    assert!(e.updated_at > l.updated_at);
    assert_eq!(s.outbox_len().unwrap(), 2);
    // Reopening a lost lead clears the reason and keeps both moves in the history.
    let r = s
        .update_lead(&l.id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() })
        .unwrap();
    assert_eq!(r.lost_reason, None);
    let stages: Vec<Stage> = r.stage_history.iter().map(|h| h.stage).collect();
    assert_eq!(stages, vec![Stage::New, Stage::Lost, Stage::Contacted]);
}

#[test]
fn delete_and_restore_keep_the_lead() {
    let s = store("rep");
    let l = s.create_lead(lead("Bin")).unwrap();
    s.delete_lead(&l.id).unwrap();
    assert_eq!(count(&s), 0);
    assert!(s.search_leads("bin", 10).unwrap().is_empty());
    let bin = s.list_leads(&LeadQuery { deleted: true, ..Default::default() }).unwrap();
    assert_eq!(bin.items.len(), 1);
    assert!(s.lead(&l.id).unwrap().deleted);
    s.restore_lead(&l.id).unwrap();
    assert_eq!(count(&s), 1);
    assert_eq!(s.search_leads("bin", 10).unwrap().len(), 1);
}

#[test]
fn lists_filter_sort_and_page_by_keyset() {
    let s = store("manager");
    let owners = ["rep-a", "rep-b", "rep-c"];
    let stages = [Stage::New, Stage::Contacted, Stage::Qualified, Stage::Won];
    let mut drafts = Vec::new();
    for i in 0..130 {
        drafts.push(LeadDraft {
            name: Some(format!("Lead {:03}", (i * 37) % 130)),
            owner: Some(owners[i % 3].into()),
            stage: Some(stages[i % 4]),
            event: Some(if i % 2 == 0 { "Expo" } else { "Web" }.into()),
            tags: if i % 5 == 0 { vec!["vip".into()] } else { vec![] },
            potential: Some(if i % 2 == 0 { Potential::Hot } else { Potential::Cold }),
            deal_value: if i % 7 == 0 {
                None
            } else {
                Some(Money { amount_minor: (i as i64 * 7919) % 1000, currency: "USD".into() })
            },
            next_follow_up: Some(T0 + (i as i64 - 65) * 3_600_000),
            ..Default::default()
        });
    }
    let all = s.create_leads(drafts).unwrap();
    // Give leads distinct update times.
    for (i, l) in all.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        s.update_lead(&l.id, LeadPatch { title: Some(format!("t{i}")), ..Default::default() })
            .unwrap();
    }
    let all: Vec<Lead> = all.iter().map(|l| s.lead(&l.id).unwrap()).collect();

    let page_all = |q: LeadQuery| -> Vec<LeadSummary> {
        let mut q = LeadQuery { limit: 7, ..q };
        let mut out = Vec::new();
        loop {
            let p = s.list_leads(&q).unwrap();
            assert!(p.items.len() <= 7);
            out.extend(p.items);
            match p.next {
                Some(c) => q.after = Some(c),
                None => return out,
            }
        }
    };
    let ids = |v: &[LeadSummary]| v.iter().map(|l| l.id.clone()).collect::<Vec<_>>();

    // Updated, newest first (the default).
    let mut want = all.clone();
    want.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
    assert_eq!(
        ids(&page_all(LeadQuery::default())),
        want.iter().map(|l| l.id.clone()).collect::<Vec<_>>()
    );
    // Name, A→Z.
    let mut want = all.clone();
    want.sort_by(|a, b| {
        (a.display_name().to_lowercase(), &a.id).cmp(&(b.display_name().to_lowercase(), &b.id))
    });
    assert_eq!(
        ids(&page_all(LeadQuery { sort: LeadSort::Name, ..Default::default() })),
        want.iter().map(|l| l.id.clone()).collect::<Vec<_>>()
    );
    // Value, largest first, leads without a value last.
    let got = page_all(LeadQuery { sort: LeadSort::Value, ..Default::default() });
    let vals: Vec<i64> =
        got.iter().map(|l| l.deal_value.as_ref().map_or(-1, |m| m.amount_minor)).collect();
    assert!(vals.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(got.len(), 130);
    // Created ascending.
    let got = page_all(LeadQuery {
        sort: LeadSort::Created,
        ascending: Some(true),
        ..Default::default()
    });
    assert_eq!(got.len(), 130);
    assert!(got.windows(2).all(|w| (w[0].created_at, &w[0].id) < (w[1].created_at, &w[1].id)));

    // Filters, each checked against the same predicate applied in Rust.
    let check = |q: LeadQuery, pred: &dyn Fn(&Lead) -> bool| {
        let got = page_all(q.clone());
        let n = all.iter().filter(|l| pred(l)).count();
        assert!(n > 0, "fixture has no match for {q:?}");
        assert_eq!(got.len(), n, "{q:?}");
        assert!(got.iter().all(|g| pred(all.iter().find(|l| l.id == g.id).unwrap())));
    };
    check(LeadQuery { stages: vec![Stage::Qualified, Stage::Won], ..Default::default() }, &|l| {
        matches!(l.stage, Stage::Qualified | Stage::Won)
    });
    check(
        LeadQuery {
            owner: Some("rep-b".into()),
            potential: Some(Potential::Hot),
            ..Default::default()
        },
        &|l| l.owner == "rep-b" && l.potential == Some(Potential::Hot),
    );
    check(
        LeadQuery { tag: Some("vip".into()), event: Some("Expo".into()), ..Default::default() },
        &|l| l.tags.contains(&"vip".to_string()) && l.source.event.as_deref() == Some("Expo"),
    );
    check(LeadQuery { follow_up_due_before: Some(T0), ..Default::default() }, &|l| {
        l.next_follow_up.is_some_and(|t| t <= T0)
    });
    let cut = all.iter().map(|l| l.updated_at).max().unwrap() - 5_000;
    check(LeadQuery { updated_since: Some(cut), ..Default::default() }, &|l| l.updated_at >= cut);
    assert!(matches!(
        s.list_leads(&LeadQuery { after: Some("zz".into()), ..Default::default() }),
        Err(Error::BadCursor)
    ));
}

#[test]
fn search_matches_prefixes_across_fields_and_scripts() {
    let s = store("rep");
    let acme = s
        .create_lead(LeadDraft { company: Some("Acme Corp".into()), ..lead("John Smith") })
        .unwrap();
    let kim = s
        .create_lead(LeadDraft {
            name: Some("김철수".into()),
            company: Some("삼성전자".into()),
            ..Default::default()
        })
        .unwrap();
    let mail = s
        .create_lead(LeadDraft {
            emails: vec!["sales@globex.com".into()],
            phones: vec!["010-9876-5432".into()],
            ..Default::default()
        })
        .unwrap();
    let noted = s
        .create_lead(LeadDraft {
            notes: Some("Interested in the Müller pricing".into()),
            tags: vec!["trade show".into()],
            ..lead("Note")
        })
        .unwrap();
    let find =
        |q: &str| s.search_leads(q, 10).unwrap().into_iter().map(|l| l.id).collect::<Vec<_>>();
    assert_eq!(find("acm"), vec![acme.id.clone()]);
    assert_eq!(find("ACME smi"), vec![acme.id.clone()]);
    assert_eq!(find("김철"), vec![kim.id.clone()]);
    assert_eq!(find("삼성"), vec![kim.id.clone()]);
    assert_eq!(find("globex"), vec![mail.id.clone()]);
    assert_eq!(find("0109876"), vec![mail.id.clone()], "national phone spelling");
    assert_eq!(find("82109876"), vec![mail.id.clone()], "international phone spelling");
    assert_eq!(find("muller"), vec![noted.id.clone()], "diacritics folded");
    assert_eq!(find("trade"), vec![noted.id.clone()]);
    assert!(find("zzz").is_empty());
    assert!(find("\"*) OR (").is_empty(), "FTS syntax in the query is not interpreted");
    assert!(find("").is_empty());
    // An edit that leaves the searchable text alone keeps the search row (it is not rewritten);
    // one that changes it re-indexes, also after such an edit.
    s.update_lead(&acme.id, LeadPatch { stage: Some(Stage::Contacted), ..Default::default() })
        .unwrap();
    assert_eq!(find("acm"), vec![acme.id.clone()]);
    s.update_lead(&acme.id, LeadPatch { company: Some("Initech".into()), ..Default::default() })
        .unwrap();
    assert!(find("acm").is_empty());
    assert_eq!(find("initech"), vec![acme.id.clone()]);
    s.update_lead(&acme.id, LeadPatch { add_tags: vec!["golf".into()], ..Default::default() })
        .unwrap();
    assert_eq!(find("golf"), vec![acme.id.clone()]);
    assert_eq!(find("initech"), vec![acme.id.clone()]);
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn activities_form_a_timeline_and_feed_follow_ups() {
    let s = store("rep");
    let other = store("rep-2");
    let l = s
        .create_lead(LeadDraft { next_follow_up: Some(T0 - 3_600_000), ..lead("Follow") })
        .unwrap();
    let later = s
        .create_lead(LeadDraft { next_follow_up: Some(T0 + 3 * 3_600_000), ..lead("Later today") })
        .unwrap();
    s.create_lead(LeadDraft { next_follow_up: Some(T0 + 40 * 3_600_000), ..lead("Next week") })
        .unwrap();
    let call = s
        .add_activity(ActivityDraft {
            occurred_at: Some(T0 - 7_200_000),
            duration_s: Some(120),
            ..ActivityDraft::new(&l.id, ActivityKind::Call, "First call")
        })
        .unwrap();
    let visit = s
        .add_activity(ActivityDraft {
            occurred_at: Some(T0 - 3_600_000),
            location: Some(Location { lat: 37.5665, lon: 126.978, accuracy_m: Some(12.0) }),
            ..ActivityDraft::new(&l.id, ActivityKind::Visit, "Office visit")
        })
        .unwrap();
    let task = s
        .add_activity(ActivityDraft {
            due_at: Some(T0 + 3_600_000),
            ..ActivityDraft::new(&l.id, ActivityKind::Task, "Send quote")
        })
        .unwrap();
    assert!(!task.done && task.occurred_at.is_none());
    assert!(call.done);
    let d = s.lead_detail(&l.id).unwrap();
    let subjects: Vec<&str> = d.activities.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(subjects, vec!["Send quote", "Office visit", "First call"]);
    assert_eq!(d.activities[1].location, visit.location);

    let f = s.follow_ups("rep", T0, &Zone::utc()).unwrap();
    assert_eq!(
        f.overdue.iter().map(|x| x.lead_id.as_str()).collect::<Vec<_>>(),
        vec![l.id.as_str()]
    );
    assert_eq!(f.today.len(), 2);
    assert_eq!(f.today[0].activity_id.as_deref(), Some(task.id.as_str()));
    assert_eq!(f.today[1].lead_id, later.id);
    // In Seoul (UTC+9) the day ends at 15:00 UTC, after both.
    assert_eq!(
        s.follow_ups("rep", T0, &Zone::parse("Asia/Seoul").unwrap()).unwrap().today.len(),
        2
    );
    // In UTC-10, 09:00 UTC is 23:00 the day before: the day ends at T0 + 1h, so nothing is left today.
    assert_eq!(
        s.follow_ups("rep", T0, &Zone::parse("Pacific/Honolulu").unwrap()).unwrap().today.len(),
        0
    );
    assert!(other.follow_ups("rep", T0, &Zone::utc()).unwrap().overdue.is_empty());
    assert_eq!(
        f.upcoming.iter().map(|x| x.lead_name.as_str()).collect::<Vec<_>>(),
        vec!["Next week"]
    );
    // What the phone schedules as notifications: everything still ahead, soonest first.
    let r = s.reminders("rep", T0, 10).unwrap();
    assert_eq!(
        r.iter().map(|x| x.due_at).collect::<Vec<_>>(),
        vec![T0 + 3_600_000, T0 + 3 * 3_600_000, T0 + 40 * 3_600_000]
    );
    assert_eq!(s.reminders("rep", T0, 1).unwrap().len(), 1);

    s.complete_activity(&task.id).unwrap();
    assert_eq!(s.follow_ups("rep", T0, &Zone::utc()).unwrap().today.len(), 1);
    s.delete_activity(&call.id).unwrap();
    assert_eq!(s.activities_for_lead(&l.id).unwrap().len(), 2);
    assert!(s.verify().unwrap().projection_mismatches.is_empty());
}

#[test]
fn a_store_reopens_with_its_data_and_refuses_another_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let id = {
        let s = Store::open(&path, OpenOptions::new("rep-a")).unwrap();
        s.create_lead(lead("Persisted")).unwrap().id
    };
    assert_eq!(Store::peek_user(&path).unwrap().as_deref(), Some("rep-a"));
    assert_eq!(Store::peek_user(dir.path().join("none.db")).unwrap(), None);
    let s = Store::open(&path, OpenOptions::new("rep-a")).unwrap();
    let actor = s.actor_id();
    assert_eq!(s.lead(&id).unwrap().name.as_deref(), Some("Persisted"));
    drop(s);
    assert!(matches!(Store::open(&path, OpenOptions::new("rep-b")), Err(Error::WrongUser { .. })));
    assert_eq!(
        Store::open(&path, OpenOptions::new("rep-a")).unwrap().actor_id(),
        actor,
        "the actor id is stable"
    );
    assert!(matches!(
        Store::open(dir.path().join("x.db"), OpenOptions::new("u").region("ZZ")),
        Err(Error::Validation(ValidationError::Region(_)))
    ));
}

#[test]
fn a_much_edited_lead_is_stored_whole_and_its_outbox_is_served_from_the_document() {
    let s = store("rep");
    let l = s.create_lead(lead("Busy")).unwrap();
    for i in 0..70 {
        s.update_lead(&l.id, LeadPatch { notes: Some(format!("note {i}")), ..Default::default() })
            .unwrap();
    }
    let before = (s.lead(&l.id).unwrap(), s.document_heads(&l.id).unwrap());
    assert_eq!(s.compact().unwrap(), 0, "every write stores the whole document: nothing to fold");
    assert_eq!((s.lead(&l.id).unwrap(), s.document_heads(&l.id).unwrap()), before);
    let out = s.outbox(0, 1000).unwrap();
    assert_eq!(out.len(), 71, "compaction never touches the outbox");
    assert_eq!(s.local_change_hashes().unwrap().len(), 71);
    for e in &out {
        let c = automerge::Change::from_bytes(e.change.clone()).unwrap();
        assert_eq!(c.hash().to_string(), e.hash, "the outbox serves each change's own bytes");
    }
    let hashes: Vec<String> = out.into_iter().map(|e| e.hash).collect();
    assert_eq!(s.ack_outbox(&hashes[..10]).unwrap(), 10);
    assert_eq!(s.ack_outbox(&hashes[..10]).unwrap(), 0, "a repeated ack is harmless");
    assert_eq!(s.outbox(0, 1000).unwrap().len(), 61);
}

/// The first four bytes of each stored document: Automerge's magic number (`85 6f 4a 83`) or
/// zstd's (`28 b5 2f fd`, a document packed by compaction).
fn stored_magic(s: &Store) -> Vec<(String, [u8; 4])> {
    let c = rusqlite::Connection::open(s.path()).unwrap();
    let mut stmt = c.prepare("SELECT id, data FROM documents ORDER BY id").unwrap();
    stmt.query_map([], |r| {
        let data: Vec<u8> = r.get(1)?;
        Ok((r.get::<_, String>(0)?, [data[0], data[1], data[2], data[3]]))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

const AUTOMERGE: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const PACKED: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[test]
fn compaction_packs_every_document_and_it_reads_the_same() {
    let s = store("rep");
    let mut d = lead("Kim Min-jun");
    d.notes = Some("Met at the Seoul booth; wants a quote for 40 seats. ".repeat(4));
    let once = s.create_lead(d).unwrap();
    let edited = s.create_lead(lead("Lee")).unwrap();
    s.update_lead(&edited.id, LeadPatch { title: Some("CTO".into()), ..Default::default() })
        .unwrap();
    let call = s.add_activity(ActivityDraft::new(&once.id, ActivityKind::Call, "Intro")).unwrap();
    let ids = [&once.id, &edited.id, &call.id];
    let read =
        |s: &Store| ids.map(|id| (s.document_heads(id).unwrap(), s.document_bytes(id).unwrap()));
    let leads = |s: &Store| (s.lead(&once.id).unwrap(), s.lead(&edited.id).unwrap());
    let before = (read(&s), leads(&s), s.activity(&call.id).unwrap());
    let outbox = s.outbox(0, 100).unwrap();
    assert!(
        stored_magic(&s).iter().all(|(_, m)| *m == AUTOMERGE),
        "every write stores Automerge's own bytes"
    );
    let size = |s: &Store| -> i64 {
        let c = rusqlite::Connection::open(s.path()).unwrap();
        c.query_row("SELECT sum(length(data)) FROM documents", [], |r| r.get(0)).unwrap()
    };
    let saved = size(&s);
    s.compact().unwrap();
    let magic = stored_magic(&s);
    assert!(
        magic.iter().all(|(_, m)| *m == PACKED),
        "one change or several, all packed: {magic:?}"
    );
    assert!(size(&s) * 10 < saved * 8, "packed {} against saved {saved}", size(&s));
    assert_eq!(
        (read(&s), leads(&s), s.activity(&call.id).unwrap()),
        before,
        "the same records, heads and Automerge bytes handed out"
    );
    assert_eq!(s.outbox(0, 100).unwrap(), outbox, "the outbox serves the same changes");
    assert!(s.verify().unwrap().is_ok());
    assert_eq!(s.compact().unwrap(), 0);
    assert_eq!(stored_magic(&s), magic, "a packed document is not packed twice");
    // A packed lead is edited like any other, stored saved again and packed at the next compact.
    s.update_lead(&once.id, LeadPatch { title: Some("CEO".into()), ..Default::default() }).unwrap();
    assert_eq!(s.lead(&once.id).unwrap().title.as_deref(), Some("CEO"));
    assert!(stored_magic(&s).contains(&(once.id.clone(), AUTOMERGE)));
    s.compact().unwrap();
    assert!(stored_magic(&s).iter().all(|(_, m)| *m == PACKED));
    assert_eq!(s.lead(&once.id).unwrap().title.as_deref(), Some("CEO"));
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn a_damaged_packed_document_is_reported_never_a_crash() {
    let s = store("rep");
    let l = s.create_lead(lead("Park")).unwrap();
    let other = s.create_lead(lead("Choi")).unwrap();
    s.compact().unwrap();
    {
        let c = rusqlite::Connection::open(s.path()).unwrap();
        let data: Vec<u8> =
            c.query_row("SELECT data FROM documents WHERE id = ?1", [&l.id], |r| r.get(0)).unwrap();
        assert_eq!(data[..4], PACKED);
        // Cut the frame: zstd refuses it.
        c.execute("UPDATE documents SET data = ?2 WHERE id = ?1", (&l.id, &data[..data.len() / 2]))
            .unwrap();
    }
    let err = s.document_heads(&l.id).unwrap_err();
    assert!(matches!(err, fieldsales_core::Error::Corrupt { .. }), "{err:?}");
    let report = s.verify().unwrap();
    assert!(report.problems[0].contains("does not unpack"), "{report:?}");
    // Its outbox row is reported too: a change no document holds any more.
    assert_eq!(report.problems.len(), 2, "{report:?}");
    assert!(report.problems.iter().all(|p| p.contains(&l.id)), "{report:?}");
    assert_eq!(s.lead(&other.id).unwrap().name.as_deref(), Some("Choi"), "the rest reads");
}

#[test]
fn export_writes_every_lead_as_json_and_csv() {
    let s = store("rep");
    let l = s
        .create_lead(LeadDraft {
            company: Some("Acme, \"Korea\"".into()),
            notes: Some("line1\nline2".into()),
            tags: vec!["a".into(), "b".into()],
            custom_fields: vec![CustomField { key: "badge".into(), value: "7".into() }],
            ..lead("이영희")
        })
        .unwrap();
    s.add_activity(ActivityDraft::new(&l.id, ActivityKind::Meeting, "Demo")).unwrap();
    let gone = s.create_lead(lead("Gone")).unwrap();
    s.delete_lead(&gone.id).unwrap();

    let mut json = Vec::new();
    assert_eq!(s.export_json(false, &mut json).unwrap(), 1);
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v[0]["name"], "이영희");
    assert_eq!(v[0]["activities"][0]["subject"], "Demo");
    let mut all = Vec::new();
    assert_eq!(s.export_json(true, &mut all).unwrap(), 2);

    let mut csv_out = Vec::new();
    s.export_csv(false, &mut csv_out).unwrap();
    let mut r = csv::Reader::from_reader(csv_out.as_slice());
    let headers = r.headers().unwrap().clone();
    assert!(headers.iter().any(|h| h == "custom.badge"));
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("company")], "Acme, \"Korea\"");
    assert_eq!(&rows[0][col("notes")], "line1\nline2");
    assert_eq!(&rows[0][col("tags")], "a; b");
    assert_eq!(&rows[0][col("custom.badge")], "7");
}

#[test]
fn a_large_import_is_built_in_parallel_but_still_all_or_nothing() {
    let s = store("rep");
    let mut drafts: Vec<LeadDraft> = (0..600).map(|i| lead(&format!("Import {i:04}"))).collect();
    drafts[555].emails = vec!["not-an-email".into()];
    let e = s.create_leads(drafts.clone()).unwrap_err();
    assert!(e.to_string().contains("not-an-email"), "{e}");
    assert_eq!(count(&s), 0);
    assert_eq!(s.outbox_len().unwrap(), 0);
    // Two bad drafts in different chunks: the first in input order is the one reported.
    drafts[130].emails = vec!["first-bad".into()];
    let e = s.create_leads(drafts.clone()).unwrap_err();
    assert!(e.to_string().contains("first-bad"), "{e}");
    drafts[130].emails.clear();
    // An id already in the store, late in the batch: nothing of the batch is written.
    let existing = s.create_lead(lead("Already here")).unwrap();
    drafts[590].id = Some(existing.id.clone());
    drafts[555].emails.clear();
    let e = s.create_leads(drafts.clone()).unwrap_err();
    assert!(e.to_string().contains(&existing.id), "{e}");
    assert_eq!(count(&s), 1);
    assert_eq!(s.outbox_len().unwrap(), 1);
    s.delete_lead(&existing.id).unwrap();
    drafts[590].id = None;
    let s = store("rep-2");
    let created = s.create_leads(drafts).unwrap();
    let names: Vec<String> = created.iter().map(|l| l.name.clone().unwrap()).collect();
    assert_eq!(
        names,
        (0..600).map(|i| format!("Import {i:04}")).collect::<Vec<_>>(),
        "order is kept"
    );
    assert_eq!(count(&s), 600);
    assert_eq!(s.outbox_len().unwrap(), 600);
    assert!(s.verify().unwrap().projection_mismatches.is_empty());
}

#[test]
fn observers_hear_about_writes_and_merges_but_not_about_no_ops() {
    use std::sync::{Arc, Mutex};
    use testkit::Heard as Log;
    let (a, b) = (store("rep-a"), store("rep-b"));
    let log = Arc::new(Log(Mutex::new(Vec::new())));
    let handle = b.add_observer(log.clone());
    let l = b.create_lead(lead("Watched")).unwrap();
    b.update_lead(&l.id, LeadPatch { name: Some("Watched".into()), ..Default::default() }).unwrap();
    let act = b.add_activity(ActivityDraft::new(&l.id, ActivityKind::Note, "n")).unwrap();
    let remote = a.create_lead(lead("From A")).unwrap();
    send(&a, &b);
    let seen = log.0.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            ChangedRecords { leads: vec![l.id.clone()], ..Default::default() },
            ChangedRecords { activities: vec![act.id.clone()], ..Default::default() },
            ChangedRecords { leads: vec![remote.id.clone()], ..Default::default() },
        ]
    );
    b.remove_observer(handle);
    b.update_lead(&l.id, LeadPatch { name: Some("Quiet".into()), ..Default::default() }).unwrap();
    assert_eq!(log.0.lock().unwrap().len(), 3);
}

/// "Due today" follows the wall clock across a daylight-saving change: on the Sunday New York
/// springs forward (2026-03-08, a 23-hour day), a follow-up at 23:30 local time is today and
/// one at 00:30 on Monday is not; a fixed offset taken in winter would end the day an hour late
/// and count the Monday one as today.
#[test]
fn follow_ups_due_today_follow_daylight_saving_time() {
    let s = store("rep");
    let ny = Zone::parse("America/New_York").unwrap();
    let at = |t: &str| ny.parse_time(t, 0).unwrap();
    let tonight = s
        .create_lead(LeadDraft { next_follow_up: Some(at("2026-03-08T23:30")), ..lead("Tonight") })
        .unwrap();
    let monday = s
        .create_lead(LeadDraft { next_follow_up: Some(at("2026-03-09T00:30")), ..lead("Monday") })
        .unwrap();
    let noon = at("2026-03-08T12:00");
    let f = s.follow_ups("rep", noon, &ny).unwrap();
    assert_eq!(f.today.iter().map(|x| x.lead_id.clone()).collect::<Vec<_>>(), vec![tonight.id]);
    assert_eq!(f.upcoming.iter().map(|x| x.lead_id.clone()).collect::<Vec<_>>(), vec![monday.id]);
    // The winter offset (UTC-5) would have ended the day at 01:00 EDT.
    let winter = Zone::fixed_minutes(-300).unwrap();
    assert_eq!(s.follow_ups("rep", noon, &winter).unwrap().today.len(), 2);
}

#[test]
fn a_snapshot_of_what_the_store_holds_changes_nothing_and_a_newer_one_merges() {
    let s = store("rep");
    let l = s.create_lead(lead("Kim Minji")).unwrap();
    // What a first sync's bootstrap brings back: the document this device sent, as saved.
    let same = s.document_bytes(&l.id).unwrap();
    let heads = s.document_heads(&l.id).unwrap();
    let pull = |data: Vec<u8>, cursor: &str| {
        let item = PullApply::Snapshot { doc_id: l.id.clone(), kind: DocKind::Lead, data };
        s.apply_pull(vec![item], Some(cursor)).unwrap()
    };
    let r = pull(same, "c1");
    assert!(r.changed.leads.is_empty() && r.set_aside.is_empty());
    assert_eq!(s.document_heads(&l.id).unwrap(), heads);
    assert_eq!(
        s.meta(fieldsales_core::store::SYNC_CURSOR).unwrap().as_deref(),
        Some("c1"),
        "the cursor still moves"
    );
    // The same lead edited on another device: its snapshot differs and is merged.
    let other = store("rep");
    send(&s, &other);
    other
        .update_lead(&l.id, LeadPatch { title: Some("CTO".into()), ..Default::default() })
        .unwrap();
    let r = pull(other.document_bytes(&l.id).unwrap(), "c2");
    assert_eq!(r.changed.leads, vec![l.id.clone()]);
    assert_eq!(s.lead(&l.id).unwrap().title.as_deref(), Some("CTO"));
    assert!(s.verify().unwrap().is_ok());
}
