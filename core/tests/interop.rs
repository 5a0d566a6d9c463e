//! Issue 14, point 7: documents written by another Automerge implementation. The fixtures in
//! tests/fixtures/js were made with `@automerge/automerge` 3.5 (make-fixtures.mjs there), where
//! a plain string becomes a text object and numbers arrive in every encoding: every field reads
//! as what was written (none silently empty), the server's shape check takes them, and edits
//! made here on top of them stay readable.

use fieldsales_core::doc::{DocKind, check};
use fieldsales_core::*;
use testkit::*;

const LEAD_ID: &str = "0193a7c0-0000-7000-8000-00000000a001";
const ACTIVITY_ID: &str = "0193a7c0-0000-7000-8000-00000000a002";
const NUMBERS_ID: &str = "0193a7c0-0000-7000-8000-00000000a003";
const RUST_LEAD_ID: &str = "0193a7c0-0000-7000-8000-000000000001";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/js/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A store holding the fixture, received as a snapshot the way a pull delivers one.
fn received(name: &str, id: &str, kind: DocKind) -> TestStore {
    let s = store("kim");
    s.apply_remote(vec![PullApply::Snapshot { doc_id: id.into(), kind, data: fixture(name) }])
        .unwrap();
    s
}

#[test]
fn a_lead_created_and_edited_in_javascript_reads_whole() {
    let s = received("lead-created-in-js.automerge", LEAD_ID, DocKind::Lead);
    let l = s.lead(LEAD_ID).unwrap();
    assert_eq!(l.name.as_deref(), Some("Yuna Jung"), "a text read as empty");
    assert_eq!(l.company.as_deref(), Some("Hanbit Tech"));
    assert_eq!(l.title.as_deref(), Some("CTO"));
    assert_eq!(l.emails, vec!["yuna@hanbit.example"]);
    assert_eq!(l.phones, vec!["+821055501234"]);
    assert_eq!(l.source.channel, CaptureChannel::BadgeScan);
    assert_eq!(l.source.event.as_deref(), Some("Seoul Expo"));
    assert_eq!(l.potential, Some(Potential::Hot));
    assert_eq!(l.owner, "kim");
    assert_eq!(l.notes, "Wants a demo.");
    assert_eq!(l.custom_fields, vec![CustomField { key: "size".into(), value: "L".into() }]);
    assert_eq!((l.created_at, l.created_by.as_str()), (T0, "kim"));
    assert_eq!(l.stage_history.len(), 1);
    assert_eq!(l.stage_history[0].by, "kim");
    assert_eq!(l.deal_value, Some(Money { amount_minor: 1_500_000, currency: "KRW".into() }));

    let s = received("lead-edited-in-js.automerge", LEAD_ID, DocKind::Lead);
    let l = s.lead(LEAD_ID).unwrap();
    assert_eq!(l.company.as_deref(), Some("Hanbit Technologies"));
    assert_eq!(l.notes, "Wants a demo. Call back Tuesday.");
    assert_eq!(l.stage, Stage::Qualified);
    assert_eq!(
        l.stage_history.iter().map(|h| (h.stage, h.at)).collect::<Vec<_>>(),
        vec![(Stage::New, T0), (Stage::Qualified, T0 + 3_600_000)]
    );
    assert_eq!(l.tags, vec!["expo", "vip"]);
    assert_eq!(l.next_follow_up, Some(T0 + 86_400_000));
    assert_eq!(l.deal_value, Some(Money { amount_minor: 2_500_000, currency: "KRW".into() }));
    assert!(l.conflicts.is_empty(), "{:?}", l.conflicts);
    // The projections agree: lists, search and reports see the same lead.
    let row = &s.list_leads(&LeadQuery::default()).unwrap().items[0];
    assert_eq!(row.display_name, "Yuna Jung");
    assert_eq!(row.stage, Stage::Qualified);
    assert_eq!(s.search_leads("hanbit", 10).unwrap().len(), 1);
    assert!(s.verify().unwrap().is_ok());
}

#[test]
fn an_activity_written_in_javascript_reads_whole() {
    let s = received("activity-created-in-js.automerge", ACTIVITY_ID, DocKind::Activity);
    let a = s.activity(ACTIVITY_ID).unwrap();
    assert_eq!(a.lead_id, LEAD_ID);
    assert_eq!(a.kind, ActivityKind::Visit);
    assert_eq!(a.subject, "Site visit");
    assert_eq!(a.notes, "Brought samples.");
    assert_eq!(a.outcome.as_deref(), Some("interested"));
    assert_eq!(a.duration_s, Some(1800));
    assert_eq!(a.occurred_at, Some(T0 + 60_000));
    assert!(a.done);
    // `lon: 127` is an int in JavaScript; the reader takes it as the float it is.
    assert_eq!(a.location, Some(Location { lat: 37.5665, lon: 127.0, accuracy_m: Some(12.5) }));
}

#[test]
fn numbers_in_every_encoding_and_scalar_strings_read_as_written() {
    let s = received("lead-numbers.automerge", NUMBERS_ID, DocKind::Lead);
    let l = s.lead(NUMBERS_ID).unwrap();
    assert_eq!(l.name.as_deref(), Some("Numbers Park"));
    assert_eq!(l.created_at, T0, "an f64 time");
    assert_eq!(l.updated_at, T0, "a uint time");
    assert_eq!(l.next_follow_up, Some(T0 + 7_200_000), "a counter");
    assert_eq!(l.deal_value, Some(Money { amount_minor: 990_000, currency: "USD".into() }));
    assert_eq!(l.stage, Stage::Proposal);
    assert_eq!(l.stage_history[0].at, T0);
    assert_eq!(l.notes, "A scalar string for notes.");
    assert_eq!(l.emails, vec!["park@numbers.example"]);
}

#[test]
fn a_lead_of_this_app_edited_in_javascript_reads_both_sides() {
    let s = received("rust-lead-edited-in-js.automerge", RUST_LEAD_ID, DocKind::Lead);
    let l = s.lead(RUST_LEAD_ID).unwrap();
    assert_eq!(l.name.as_deref(), Some("Kim Minji"), "the core's scalar");
    assert_eq!(l.company.as_deref(), Some("Acme Korea Ltd"), "JavaScript's text");
    assert_eq!(l.title.as_deref(), Some("Head of Sales"));
    assert_eq!(l.emails, vec!["minji@acme.co.kr", "minji.kim@acme.example"]);
    assert_eq!(l.potential, Some(Potential::Hot));
    assert_eq!(l.notes, "Met at the booth.");
}

/// What the server checks before it stores a push: every fixture passes the shape check.
#[test]
fn the_shape_check_takes_documents_written_in_javascript() {
    for (name, id, kind) in [
        ("lead-created-in-js.automerge", LEAD_ID, DocKind::Lead),
        ("lead-edited-in-js.automerge", LEAD_ID, DocKind::Lead),
        ("lead-numbers.automerge", NUMBERS_ID, DocKind::Lead),
        ("rust-lead-edited-in-js.automerge", RUST_LEAD_ID, DocKind::Lead),
        ("activity-created-in-js.automerge", ACTIVITY_ID, DocKind::Activity),
    ] {
        let d = doc::load(id, &fixture(name)).unwrap();
        check::check(&d, id, kind).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Edits made here on top of a JavaScript document: fields held as text are replaced or kept
/// as they should be, a list of texts is edited without duplicates, the notes stay one text.
#[test]
fn editing_a_javascript_lead_here_keeps_it_readable() {
    let s = received("lead-edited-in-js.automerge", LEAD_ID, DocKind::Lead);
    let l = s
        .update_lead(
            LEAD_ID,
            LeadPatch {
                name: Some("Yuna Jung".into()),
                title: Some("CEO".into()),
                emails: Some(vec!["yuna@hanbit.example".into(), "ceo@hanbit.example".into()]),
                notes: Some("Wants a demo. Call back Tuesday. Sent the deck.".into()),
                stage: Some(Stage::Proposal),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(l.title.as_deref(), Some("CEO"));
    assert_eq!(l.emails, vec!["yuna@hanbit.example", "ceo@hanbit.example"]);
    assert_eq!(l.notes, "Wants a demo. Call back Tuesday. Sent the deck.");
    assert_eq!(l.stage, Stage::Proposal);
    assert_eq!(l.stage_history.len(), 3);
    let d = doc::load(LEAD_ID, &s.document_bytes(LEAD_ID).unwrap()).unwrap();
    check::check(&d, LEAD_ID, DocKind::Lead).unwrap();
    // The name was already "Yuna Jung" (as a text): no rewrite, no conflict.
    assert!(l.conflicts.is_empty());
}

/// A field of a type the app cannot read is refused by the shape check with a message that
/// says what was found, rather than stored and read as empty.
#[test]
fn an_unreadable_type_is_refused_with_a_clear_reason() {
    use automerge::transaction::Transactable;
    let mut d = doc::load(LEAD_ID, &fixture("lead-created-in-js.automerge")).unwrap();
    d.put_object(automerge::ROOT, "name", automerge::ObjType::List).unwrap();
    d.commit();
    let e = check::check(&d, LEAD_ID, DocKind::Lead).unwrap_err();
    assert!(e.contains("'name'") && e.contains("list"), "{e}");
    let mut d = doc::load(LEAD_ID, &fixture("lead-created-in-js.automerge")).unwrap();
    d.put(automerge::ROOT, "created_at", 1.5).unwrap();
    d.commit();
    let e = check::check(&d, LEAD_ID, DocKind::Lead).unwrap_err();
    assert!(e.contains("'created_at'") && e.contains("1.5"), "{e}");
}
