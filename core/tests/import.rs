//! CSV import end to end: export → import round trip, dry runs, all-or-nothing, retries.

use fieldsales_core::import::{Column, ColumnMapping, ImportOptions};
use fieldsales_core::*;
use testkit::*;

/// Every lead the store holds, deleted ones too.
fn all(s: &Store) -> Vec<Lead> {
    s.export_leads(true).unwrap().into_iter().map(|(l, _)| l).collect()
}

/// The fields a user sees, and the id.
fn visible(l: &Lead) -> impl PartialEq + std::fmt::Debug + use<> {
    (
        l.id.clone(),
        (l.name.clone(), l.company.clone(), l.title.clone(), l.emails.clone(), l.phones.clone()),
        (l.source.clone(), l.stage, l.lost_reason.clone(), l.potential, l.deal_value.clone()),
        (
            l.owner.clone(),
            l.tags.clone(),
            l.notes.clone(),
            l.custom_fields.clone(),
            l.next_follow_up,
        ),
    )
}

fn export_csv(s: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    s.export_csv(false, &mut out).unwrap();
    out
}

fn field(key: &str, value: &str) -> CustomField {
    CustomField { key: key.into(), value: value.into() }
}

fn seed(s: &Store) {
    s.create_lead(LeadDraft {
        name: Some("김민지".into()),
        company: Some("Acme Korea, Ltd.".into()),
        title: Some("구매 담당 \"팀장\"".into()),
        emails: vec!["minji@acme.co.kr".into(), "mj.kim@gmail.com".into()],
        phones: vec!["010-1234-5678".into(), "+1 415 555 2671".into()],
        event: Some("Seoul Expo 2026".into()),
        channel: Some(CaptureChannel::BadgeScan),
        stage: Some(Stage::Proposal),
        potential: Some(Potential::Hot),
        deal_value: Some(Money { amount_minor: 15_000_000, currency: "KRW".into() }),
        owner: Some("lee".into()),
        tags: vec!["vip".into(), "expo 2026".into(), "a,b".into()],
        notes: Some(
            "Booth 12 방문 🎉\nasked for a quote; \"urgent\"\r\nsecond line, with comma\n".into(),
        ),
        custom_fields: vec![field("badge", "A-113"), field("interest", "robots; arms")],
        next_follow_up: Some(T0 + 86_400_000),
        ..Default::default()
    })
    .unwrap();
    s.create_lead(LeadDraft {
        name: Some("Jane Doe".into()),
        company: Some("Globex".into()),
        stage: Some(Stage::Lost),
        lost_reason: Some("price".into()),
        potential: Some(Potential::Cold),
        deal_value: Some(Money { amount_minor: 150_050, currency: "USD".into() }),
        custom_fields: vec![field("region", "EMEA")],
        channel: Some(CaptureChannel::WebForm),
        ..Default::default()
    })
    .unwrap();
    s.create_lead(LeadDraft {
        phones: vec!["02-312-3456".into()],
        deal_value: Some(Money { amount_minor: 1, currency: "KWD".into() }),
        ..Default::default()
    })
    .unwrap();
    let won = s
        .create_lead(LeadDraft {
            company: Some("Initech".into()),
            stage: Some(Stage::Won),
            ..Default::default()
        })
        .unwrap();
    s.update_lead(
        &won.id,
        LeadPatch {
            add_tags: vec!["closed".into()],
            notes: Some("=SUM(A1)".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let gone = s.create_lead(lead("in the bin")).unwrap();
    s.delete_lead(&gone.id).unwrap();
}

#[test]
fn export_then_import_into_an_empty_store_gives_identical_leads() {
    let a = store("kim");
    seed(&a);
    let csv = export_csv(&a);
    let b = store("park");
    let r = b.import_csv(csv.as_slice(), None, false, None).unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!((r.rows_read, r.valid_rows, r.imported), (4, 4, 4));

    let want: Vec<_> = all(&a).iter().filter(|l| !l.deleted).map(visible).collect();
    let got: Vec<_> = all(&b).iter().map(visible).collect();
    assert_eq!(got, want);
    assert_eq!(
        r.lead_ids,
        all(&a).iter().filter(|l| !l.deleted).map(|l| l.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(b.verify().unwrap().problems, Vec::<String>::new());
    // And the imported leads export to the same CSV, but for who created them and when.
    let strip = |csv: &[u8]| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_reader(csv);
        let h = r.headers().unwrap().clone();
        let keep: Vec<usize> = (0..h.len())
            .filter(|&i| !h[i].starts_with("created_") && !h[i].starts_with("updated_"))
            .collect();
        r.records()
            .map(|rec| keep.iter().map(|&i| rec.as_ref().unwrap()[i].to_string()).collect())
            .collect()
    };
    assert_eq!(strip(&export_csv(&b)), strip(&csv));
}

#[test]
fn a_dry_run_reports_row_errors_and_writes_nothing() {
    let s = store("kim");
    s.create_lead(lead("already here")).unwrap();
    let (outbox, leads) = (s.outbox_len().unwrap(), all(&s).len());
    let csv = "First Name;Last Name;E-mail Address;Mobile Phone;Lead Status;Amount\r\n\
               Jane;Doe;jane@globex.com;+1 415 555 2671;Working - Contacted;1500.50\r\n\
               John;Roe;john@;;Qualified;\r\n\
               ;;;;New;\r\n\
               김;철수;;010-1234-5678;Someday;\r\n";
    let r = s.import_csv(csv.as_bytes(), None, true, Some("USD")).unwrap();
    assert!(r.dry_run);
    assert_eq!(r.delimiter, ';');
    assert_eq!((r.rows_read, r.valid_rows, r.imported), (4, 1, 0));
    let errs: Vec<(u64, Option<&str>, &str)> =
        r.errors.iter().map(|e| (e.row, e.column.as_deref(), e.message.as_str())).collect();
    assert_eq!(
        errs,
        [
            (3, Some("E-mail Address"), "'john@' is not a valid e-mail address"),
            (
                4,
                None,
                "a lead needs at least a name, a company, an e-mail address or a phone number"
            ),
            (
                5,
                Some("Lead Status"),
                "'Someday' is not a valid stage; expected one of: new contacted qualified proposal negotiation won lost (or Open, Working, Quote, Closed Won, Closed Lost…)"
            ),
        ]
    );
    assert_eq!((s.outbox_len().unwrap(), all(&s).len()), (outbox, leads));

    // A clean dry run writes nothing either.
    let r = s.import_csv("Name\nKim\nLee\n".as_bytes(), None, true, None).unwrap();
    assert_eq!((r.valid_rows, r.imported, r.errors.len()), (2, 0, 0));
    assert_eq!((s.outbox_len().unwrap(), all(&s).len()), (outbox, leads));
}

#[test]
fn one_bad_row_imports_nothing_unless_invalid_rows_are_skipped() {
    let s = store("kim");
    let mut csv = String::from("Name,Email,Tags\n");
    for i in 0..300 {
        csv.push_str(&format!("Lead {i},lead{i}@acme.com,\"expo, batch\"\n"));
        if i == 150 {
            csv.push_str("Bad,not an email,\n");
        }
    }
    let r = s.import_csv(csv.as_bytes(), None, false, None).unwrap();
    assert_eq!((r.rows_read, r.valid_rows, r.imported), (301, 300, 0));
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].row, 153);
    assert!(r.lead_ids.is_empty());
    assert_eq!((s.outbox_len().unwrap(), all(&s).len()), (0, 0), "never half-applied");

    let opts = ImportOptions { skip_invalid: true, ..Default::default() };
    let r = s.import_csv_with(csv.as_bytes(), opts).unwrap();
    assert_eq!((r.valid_rows, r.imported, r.errors.len()), (300, 300, 1));
    let leads = all(&s);
    assert_eq!(leads.len(), 300);
    assert!(leads.iter().all(|l| l.tags == ["batch", "expo"]
        && l.source.channel == CaptureChannel::Import
        && l.owner == "kim"));
    assert_eq!(s.outbox_len().unwrap(), 300);
}

#[test]
fn a_retried_import_reports_rows_already_imported() {
    let a = store("kim");
    seed(&a);
    let csv = export_csv(&a);
    let b = store("kim");
    let first = b.import_csv(csv.as_slice(), None, false, None).unwrap();
    assert_eq!(first.imported, 4);
    let outbox = b.outbox_len().unwrap();

    let again = b.import_csv(csv.as_slice(), None, false, None).unwrap();
    assert_eq!((again.rows_read, again.valid_rows, again.imported), (4, 0, 0));
    assert_eq!(again.errors.len(), 4);
    for (e, id) in again.errors.iter().zip(&first.lead_ids) {
        assert_eq!(e.column.as_deref(), Some("id"));
        assert_eq!(e.message, format!("already imported: lead {id} is in the store"));
    }
    assert_eq!((b.outbox_len().unwrap(), all(&b).len()), (outbox, 4));

    // A file that adds one new lead to leads already imported: the new one is imported alone
    // when asked to skip the others; by default nothing is.
    let c = store("kim");
    let extra = c.create_lead(lead("new one")).unwrap();
    let mut more = csv.clone();
    let mut tail = Vec::new();
    c.export_csv(false, &mut tail).unwrap();
    more.extend(tail.split(|&b| b == b'\n').nth(1).unwrap());
    more.push(b'\n');
    let r = b.import_csv(more.as_slice(), None, false, None).unwrap();
    assert_eq!((r.valid_rows, r.imported, r.errors.len()), (1, 0, 4));
    let r = b
        .import_csv_with(
            more.as_slice(),
            ImportOptions { skip_invalid: true, ..Default::default() },
        )
        .unwrap();
    assert_eq!(r.lead_ids, [extra.id]);

    // The same id twice in one file.
    let id = new_id();
    let r =
        b.import_csv(format!("id,name\n{id},A\n{id},B\n").as_bytes(), None, true, None).unwrap();
    assert_eq!(r.errors[0].message, format!("lead {id} is also on line 2"));
}

#[test]
fn a_mapping_can_be_overridden_and_a_deleted_row_is_refused() {
    let a = store("kim");
    seed(&a);
    let mut csv = Vec::new();
    a.export_csv(true, &mut csv).unwrap();
    let b = store("kim");
    let r = b.import_csv(csv.as_slice(), None, true, None).unwrap();
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].column.as_deref(), Some("deleted"));
    let mut m = ColumnMapping::new();
    m.ignore("deleted").set("owner", Column::Custom("previous owner".into()));
    let r = b.import_csv(csv.as_slice(), Some(m), false, None).unwrap();
    assert_eq!(r.imported, 5, "{:?}", r.errors);
    let leads = all(&b);
    assert!(leads.iter().all(|l| !l.deleted && l.owner == "kim"));
    assert_eq!(
        leads[0].custom_fields.iter().find(|f| f.key == "previous owner").map(|f| f.value.as_str()),
        Some("lee")
    );
}

#[test]
fn an_export_can_be_limited_to_a_period_or_a_filter() {
    use fieldsales_core::export::ExportFilter;
    let s = store("kim");
    let day = 86_400_000;
    let mut ids = Vec::new();
    for (i, (owner, stage, tag, event)) in [
        ("kim", Stage::New, "vip", "Expo"),
        ("lee", Stage::Won, "vip", "Expo"),
        ("kim", Stage::Lost, "cold", "Fair"),
        ("lee", Stage::New, "", ""),
    ]
    .into_iter()
    .enumerate()
    {
        s.set_time(T0 + i as i64 * day);
        let draft = LeadDraft {
            owner: Some(owner.into()),
            stage: Some(stage),
            tags: vec![tag.into()],
            event: Some(event.into()),
            ..lead(&format!("lead {i}"))
        };
        ids.push(s.create_lead(draft).unwrap().id);
    }
    s.set_time(T0 + 10 * day);
    s.update_lead(&ids[0], LeadPatch { notes: Some("later".into()), ..Default::default() })
        .unwrap();
    let pick = |f: ExportFilter| -> Vec<usize> {
        s.export_leads_where(&f)
            .unwrap()
            .iter()
            .map(|(l, _)| ids.iter().position(|i| *i == l.id).unwrap())
            .collect()
    };
    assert_eq!(pick(ExportFilter::default()), [0, 1, 2, 3]);
    assert_eq!(
        pick(ExportFilter {
            created_from: Some(T0 + day),
            created_before: Some(T0 + 3 * day),
            ..Default::default()
        }),
        [1, 2]
    );
    assert_eq!(pick(ExportFilter { owners: vec!["lee".into()], ..Default::default() }), [1, 3]);
    assert_eq!(
        pick(ExportFilter { stages: vec![Stage::Won, Stage::Lost], ..Default::default() }),
        [1, 2]
    );
    assert_eq!(
        pick(ExportFilter {
            tag: Some("vip".into()),
            owners: vec!["kim".into()],
            ..Default::default()
        }),
        [0]
    );
    assert_eq!(pick(ExportFilter { event: Some("Expo".into()), ..Default::default() }), [0, 1]);
    assert_eq!(pick(ExportFilter { updated_since: Some(T0 + 5 * day), ..Default::default() }), [0]);
    s.delete_lead(&ids[3]).unwrap();
    assert_eq!(pick(ExportFilter { owners: vec!["lee".into()], ..Default::default() }), [1]);
    assert_eq!(
        pick(ExportFilter {
            owners: vec!["lee".into()],
            include_deleted: true,
            ..Default::default()
        }),
        [1, 3]
    );

    // A filtered CSV export imports into another store as those leads only.
    let mut csv = Vec::new();
    assert_eq!(
        s.export_csv_where(
            &ExportFilter { event: Some("Expo".into()), ..Default::default() },
            &mut csv
        )
        .unwrap(),
        2
    );
    let b = store("kim");
    let r = b.import_csv(csv.as_slice(), None, false, None).unwrap();
    assert_eq!(r.lead_ids, ids[..2]);
    let mut json = Vec::new();
    assert_eq!(
        s.export_json_where(
            &ExportFilter { stages: vec![Stage::Lost], ..Default::default() },
            &mut json
        )
        .unwrap(),
        1
    );
}
