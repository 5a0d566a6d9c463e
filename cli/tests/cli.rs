//! End-to-end tests: the built `fieldsales` binary against a store in a temporary directory.

mod common;

use std::process::Command;

use common::Fs;
use serde_json::Value;

fn kim_lead(fs: &Fs) -> String {
    fs.add(&[
        "--name",
        "김민지",
        "--company",
        "Acme",
        "--title",
        "CTO",
        "--email",
        "Kim@Acme.com",
        "--phone",
        "010-1234-5678",
        "--event",
        "Expo 2026",
        "--channel",
        "badge-scan",
        "--stage",
        "qualified",
        "--potential",
        "hot",
        "--value",
        "1500000",
        "--currency",
        "KRW",
        "--tag",
        "vip",
        "--tag",
        "expo",
        "--notes",
        "Loves the demo 🚀\nCall back",
        "--custom",
        "region=Seoul",
        "--follow-up",
        "2026-11-28T15:00:00+09:00",
    ])
}

#[test]
fn add_stores_korean_names_and_emoji_and_prints_the_id_first() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    let lead = &fs.json(&["lead", "show", &id])["lead"];
    assert_eq!(lead["id"], id.as_str());
    assert_eq!(lead["name"], "김민지");
    assert_eq!(lead["notes"], "Loves the demo 🚀\nCall back");
    assert_eq!(lead["emails"], serde_json::json!(["kim@acme.com"]));
    assert_eq!(lead["phones"], serde_json::json!(["+821012345678"]));
    assert_eq!(lead["source"]["channel"], "badge_scan");
    assert_eq!(
        lead["deal_value"],
        serde_json::json!({"amount_minor": 1_500_000, "currency": "KRW"})
    );
    assert_eq!(lead["custom_fields"], serde_json::json!([{"key": "region", "value": "Seoul"}]));
    assert_eq!(lead["tags"], serde_json::json!(["expo", "vip"]));
    assert_eq!(lead["next_follow_up"], 1_795_845_600_000i64);
    assert_eq!(lead["owner"], "kim");

    let with_json = fs.json(&["lead", "add", "--company", "Solo"]);
    assert_eq!(with_json["company"], "Solo");
    assert_eq!(fs.ids(&[]).len(), 2);
}

#[test]
fn amounts_are_read_in_the_currency_units() {
    let fs = Fs::new();
    let lead =
        fs.json(&["lead", "add", "--name", "Bob", "--value", "1,500.5", "--currency", "usd"]);
    assert_eq!(lead["deal_value"], serde_json::json!({"amount_minor": 150_050, "currency": "USD"}));
    let text = fs.ok(&["lead", "show", lead["id"].as_str().unwrap_or("")]);
    assert!(text.contains("1,500.50 USD"), "{text}");
    let e =
        fs.fail(fs.run(&["lead", "add", "--name", "X", "--value", "10.5", "--currency", "KRW"]), 1);
    assert!(e.contains("KRW has no decimal places"), "{e}");
    let e = fs
        .fail(fs.run(&["lead", "add", "--name", "X", "--value", "10", "--currency", "dollars"]), 1);
    assert!(e.contains("ISO 4217"), "{e}");
    let e = fs.fail(fs.run(&["lead", "add", "--name", "X", "--value", "10"]), 1);
    assert!(e.contains("--currency"), "{e}");
    assert_eq!(fs.ids(&[]).len(), 1);
}

#[test]
fn list_filters_by_stage_potential_owner_tag_and_event() {
    let fs = Fs::new();
    let kim = kim_lead(&fs);
    let won =
        fs.add(&["--name", "Won Co", "--stage", "won", "--tag", "vip", "--potential", "warm"]);
    let lost = fs.add(&[
        "--name",
        "Lost Co",
        "--stage",
        "lost",
        "--lost-reason",
        "price",
        "--owner",
        "lee",
    ]);
    let new = fs.add(&["--name", "New Co", "--event", "Expo 2026"]);

    let mut both = fs.ids(&["--stage", "won", "--stage", "lost"]);
    both.sort();
    let mut want = vec![won.clone(), lost.clone()];
    want.sort();
    assert_eq!(both, want);
    assert_eq!(fs.ids(&["--stage", "qualified"]), vec![kim.clone()]);
    assert_eq!(fs.ids(&["--potential", "warm"]), vec![won.clone()]);
    assert_eq!(fs.ids(&["--owner", "lee"]), vec![lost.clone()]);
    assert_eq!(fs.ids(&["--tag", "vip", "--sort", "name"]), vec![won.clone(), kim.clone()]);
    assert_eq!(
        fs.ids(&["--event", "Expo 2026", "--sort", "created", "--asc"]),
        vec![kim.clone(), new.clone()]
    );
    assert_eq!(fs.ids(&["--due-before", "2026-12-01"]), vec![kim.clone()]);
    assert_eq!(fs.ids(&["--updated-since", "+1d"]), Vec::<String>::new());
    assert_eq!(fs.ids(&["--updated-since", "-1d"]).len(), 4);

    let table = fs.ok(&["lead", "list", "--stage", "lost"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].starts_with("ID") && lines[0].contains("STAGE"), "{table}");
    assert!(
        lines[1].contains(&lost) && lines[1].contains("Lost Co") && lines[1].contains("lee"),
        "{table}"
    );
    assert_eq!(fs.ok(&["lead", "list", "--stage", "proposal"]).trim(), "no leads");
}

#[test]
fn list_pages_through_everything_with_the_cursor() {
    let fs = Fs::new();
    let mut added: Vec<String> =
        (0..7).map(|i| fs.add(&["--name", &format!("Lead {i}")])).collect();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut args = vec!["lead", "list", "--limit", "3", "--sort", "name"];
        if let Some(a) = &after {
            args.extend(["--after", a.as_str()]);
        }
        let page = fs.json(&args);
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|l| l["id"].as_str().unwrap_or("").to_string()));
        pages += 1;
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    added.sort();
    assert_eq!(sorted, added, "every lead exactly once");

    let text = fs.ok(&["lead", "list", "--limit", "3"]);
    let last = text.lines().last().unwrap_or("");
    let cursor = last.strip_prefix("next: ").unwrap_or_else(|| panic!("no cursor line: {text}"));
    let rest = fs.json(&["lead", "list", "--limit", "10", "--after", cursor]);
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(4));
    assert!(rest["next"].is_null());

    let e = fs.fail(fs.run(&["lead", "list", "--after", "nonsense"]), 1);
    assert!(e.contains("cursor"), "{e}");
}

#[test]
fn search_matches_word_prefixes() {
    let fs = Fs::new();
    let kim = kim_lead(&fs);
    let other = fs.add(&["--name", "Park", "--company", "Globex", "--notes", "met at booth"]);
    let found = fs.json(&["search", "acm"]);
    let ids: Vec<&str> =
        found.as_array().expect("array").iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, vec![kim.as_str()]);
    let found = fs.json(&["search", "glob", "boo"]);
    assert_eq!(found[0]["id"], other.as_str());
    assert_eq!(found.as_array().map(Vec::len), Some(1));
    assert!(fs.ok(&["search", "김민"]).contains(&kim));
    assert!(fs.ok(&["search", "zzz"]).contains("no leads match"));
}

#[test]
fn edit_changes_only_the_named_fields() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    let lead = fs.json(&[
        "lead",
        "edit",
        &id,
        "--company",
        "Acme Corp",
        "--add-tag",
        "hot-lead",
        "--remove-tag",
        "expo",
        "--clear",
        "title",
        "--remove-custom",
        "region",
        "--custom",
        "size=50",
        "--value",
        "2000000",
    ]);
    assert_eq!(lead["company"], "Acme Corp");
    assert!(lead["title"].is_null());
    assert_eq!(lead["tags"], serde_json::json!(["hot-lead", "vip"]));
    assert_eq!(lead["custom_fields"], serde_json::json!([{"key": "size", "value": "50"}]));
    assert_eq!(
        lead["deal_value"],
        serde_json::json!({"amount_minor": 2_000_000, "currency": "KRW"}),
        "keeps the currency"
    );
    assert_eq!(lead["name"], "김민지", "untouched");
    assert_eq!(lead["notes"], "Loves the demo 🚀\nCall back", "untouched");

    let text = fs.ok(&[
        "lead",
        "edit",
        &id,
        "--stage",
        "lost",
        "--lost-reason",
        "budget",
        "--clear",
        "email",
    ]);
    assert!(text.starts_with(&id));
    assert!(text.contains("lost (reason: budget)"), "{text}");
    let lead = &fs.json(&["lead", "show", &id])["lead"];
    assert_eq!(lead["emails"], serde_json::json!([]));
    let stages: Vec<&str> = lead["stage_history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["stage"].as_str())
        .collect();
    assert_eq!(stages, vec!["qualified", "lost"]);

    let e = fs.fail(fs.run(&["lead", "edit", &id]), 1);
    assert!(e.contains("nothing to change"), "{e}");
    let e = fs.fail(fs.run(&["lead", "edit", &id, "--lost-reason", "x", "--stage", "won"]), 1);
    assert!(e.contains("lost reason"), "{e}");
    assert_eq!(fs.json(&["lead", "show", &id])["lead"]["stage"], "lost");
}

#[test]
fn show_prints_the_lead_with_its_timeline_in_the_chosen_zone() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    fs.ok(&[
        "activity",
        "add",
        &id,
        "--kind",
        "meeting",
        "--subject",
        "Demo at HQ",
        "--at",
        "2026-11-27T10:00+09:00",
    ]);
    let seoul = fs.ok(&["--tz", "Asia/Seoul", "lead", "show", &id]);
    assert_eq!(seoul.lines().next(), Some(id.as_str()));
    for want in [
        "김민지",
        "Loves the demo 🚀",
        "1,500,000 KRW",
        "2026-11-28T15:00:00+09:00",
        "Demo at HQ",
        "2026-11-27 10:00",
        "region = Seoul",
    ] {
        assert!(seoul.contains(want), "missing {want}: {seoul}");
    }
    let utc = fs.ok(&["lead", "show", &id]);
    assert!(utc.contains("2026-11-28T06:00:00Z") && utc.contains("2026-11-27 01:00"), "{utc}");
    let detail = fs.json(&["lead", "show", &id]);
    assert_eq!(detail["activities"][0]["subject"], "Demo at HQ");
    assert_eq!(detail["lead"]["conflicts"], serde_json::json!([]));
}

#[test]
fn activities_are_added_listed_and_completed() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    let call = fs.json(&[
        "activity",
        "add",
        &id,
        "--kind",
        "call",
        "--subject",
        "Intro call",
        "--duration",
        "5m",
        "--at",
        "2026-11-27T10:00+09:00",
        "--outcome",
        "interested",
        "--notes",
        "asked for 가격표 📄",
    ]);
    assert_eq!(call["duration_s"], 300);
    assert_eq!(call["occurred_at"], 1_795_741_200_000i64);
    assert_eq!(call["notes"], "asked for 가격표 📄");
    let visit = fs.json(&[
        "activity",
        "add",
        &id,
        "--kind",
        "visit",
        "--subject",
        "Site",
        "--lat",
        "37.56",
        "--lon",
        "-126.97",
        "--accuracy",
        "15",
    ]);
    assert_eq!(
        visit["location"],
        serde_json::json!({"lat": 37.56, "lon": -126.97, "accuracy_m": 15.0})
    );
    let task_text = fs.ok(&[
        "activity",
        "add",
        &id,
        "--kind",
        "task",
        "--subject",
        "Send quote",
        "--due",
        "+2d",
    ]);
    let task_id = task_text.lines().next().unwrap_or("").to_string();
    assert!(task_text.contains("open"), "{task_text}");

    let list = fs.json(&["activity", "list", &id]);
    let subjects: Vec<&str> =
        list.as_array().expect("array").iter().filter_map(|a| a["subject"].as_str()).collect();
    assert_eq!(subjects, vec!["Send quote", "Site", "Intro call"], "newest first");
    assert_eq!(list[0]["done"], false);

    let done = fs.json(&["activity", "done", &task_id]);
    assert_eq!(done["done"], true);
    assert_eq!(fs.json(&["activity", "list", &id])[0]["done"], true);
    let table = fs.ok(&["activity", "list", &id]);
    assert!(
        table.contains("Intro call") && table.contains("5m") && table.contains(&task_id),
        "{table}"
    );

    let e = fs.fail(
        fs.run(&["activity", "add", &id, "--kind", "call", "--subject", "x", "--duration", "5"]),
        1,
    );
    assert!(e.contains("--duration"), "{e}");
    let e = fs.fail(fs.run(&["activity", "list", "01a2241a-8faa-740a-93ad-54d36d994cd0"]), 1);
    assert!(e.contains("not found"), "{e}");
    assert_eq!(fs.json(&["activity", "list", &id]).as_array().map(Vec::len), Some(3));
}

/// A fixed zone (`+HH:MM`) that puts local time near noon, so that "+1h" is later today
/// whenever the test runs.
fn noon_zone() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let minute_of_day = ((now / 60) % 1440) as i32;
    let off = (720 - minute_of_day).rem_euclid(1440);
    let off = if off > 720 { off - 1440 } else { off };
    let sign = if off < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", off.abs() / 60, off.abs() % 60)
}

#[test]
fn followups_split_overdue_and_today() {
    let fs = Fs::new();
    let late = fs.add(&["--name", "Late", "--follow-up", "2020-01-01"]);
    let later = fs.add(&["--name", "Later", "--follow-up", "+3d"]);
    let task_lead = fs.add(&["--name", "Tasked"]);
    fs.ok(&[
        "activity",
        "add",
        &task_lead,
        "--kind",
        "task",
        "--subject",
        "Call back",
        "--due",
        "+1h",
    ]);
    let done = fs.json(&[
        "activity",
        "add",
        &task_lead,
        "--kind",
        "task",
        "--subject",
        "Old task",
        "--due",
        "-2h",
    ]);
    fs.ok(&["activity", "done", done["id"].as_str().unwrap_or("")]);
    let theirs = fs.add(&["--name", "Lee's", "--owner", "lee", "--follow-up", "2020-01-01"]);

    let zone = noon_zone();
    let f = fs.json(&["--tz", &zone, "followups"]);
    let overdue: Vec<&str> = f["overdue"]
        .as_array()
        .expect("overdue")
        .iter()
        .filter_map(|x| x["lead_id"].as_str())
        .collect();
    assert_eq!(overdue, vec![late.as_str()]);
    let today = f["today"].as_array().expect("today");
    assert_eq!(today.len(), 1, "{f}");
    assert_eq!(today[0]["lead_id"], task_lead.as_str());
    assert_eq!(today[0]["subject"], "Call back");
    // "+3d" is after today: it is upcoming, not today.
    let upcoming: Vec<&str> = f["upcoming"]
        .as_array()
        .expect("upcoming")
        .iter()
        .filter_map(|x| x["lead_id"].as_str())
        .collect();
    assert_eq!(upcoming, vec![later.as_str()]);
    assert!(!f["today"].to_string().contains(&later));

    let text = fs.ok(&["--tz", &zone, "followups", "--user", "kim"]);
    assert!(
        text.contains("overdue (1)") && text.contains("today (1)") && text.contains("Call back"),
        "{text}"
    );
    let lee = fs.json(&["followups", "--owner", "lee"]);
    assert_eq!(lee["overdue"][0]["lead_id"], theirs.as_str());
}

#[test]
fn delete_moves_to_the_bin_and_restore_brings_back() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    let keep = fs.add(&["--name", "Keep"]);
    assert!(fs.ok(&["lead", "delete", &id]).starts_with(&format!("deleted {id}")));
    assert_eq!(fs.ids(&[]), vec![keep.clone()]);
    assert_eq!(fs.ids(&["--deleted"]), vec![id.clone()]);
    assert_eq!(fs.json(&["search", "acme"]), serde_json::json!([]));
    assert_eq!(fs.json(&["lead", "show", &id])["lead"]["deleted"], true);
    assert!(fs.ok(&["lead", "show", &id]).contains("deleted"));

    let restored = fs.json(&["lead", "restore", &id]);
    assert_eq!(restored["deleted"], false);
    assert_eq!(fs.ids(&[]).len(), 2);
    assert!(fs.ids(&["--deleted"]).is_empty());
    let e = fs.fail(fs.run(&["lead", "delete", "01a2241a-8faa-740a-93ad-54d36d994cd0"]), 1);
    assert!(e.contains("was not found"), "{e}");
}

#[test]
fn export_writes_json_and_csv() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    let gone = fs.add(&["--name", "Gone"]);
    fs.ok(&["lead", "delete", &gone]);
    fs.ok(&["activity", "add", &id, "--kind", "note", "--subject", "메모 ✍️"]);

    let all: Value =
        serde_json::from_str(&fs.ok(&["export", "--format", "json"])).expect("json export");
    let all = all.as_array().expect("array");
    assert_eq!(all.len(), 1, "deleted leads are left out");
    assert_eq!(all[0]["name"], "김민지");
    assert_eq!(all[0]["activities"][0]["subject"], "메모 ✍️");
    let with_deleted: Value =
        serde_json::from_str(&fs.ok(&["export", "--include-deleted"])).expect("json export");
    assert_eq!(with_deleted.as_array().map(Vec::len), Some(2));

    let csv_text = fs.ok(&["export", "--format", "csv"]);
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = r.headers().expect("header").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}: {headers:?}"))
    };
    let rows: Vec<csv::StringRecord> = r.records().collect::<Result<_, _>>().expect("csv rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][col("id")], id.as_str());
    assert_eq!(&rows[0][col("name")], "김민지");
    assert_eq!(&rows[0][col("notes")], "Loves the demo 🚀\nCall back");
    assert_eq!(&rows[0][col("deal_amount_minor")], "1500000");
    assert_eq!(&rows[0][col("tags")], "expo; vip");
    assert_eq!(&rows[0][col("custom.region")], "Seoul");

    let file = fs.dir.path().join("out.csv");
    let out = fs.run(&["export", "--format", "csv", "--out", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exported 1 leads"));
    assert_eq!(std::fs::read_to_string(&file).expect("export file"), csv_text);
    let leftovers = std::fs::read_dir(fs.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn a_bad_email_is_refused_and_nothing_is_written() {
    let fs = Fs::new();
    kim_lead(&fs);
    let before = fs.ids(&[]).len();
    let e = fs.fail(fs.run(&["lead", "add", "--name", "Bad", "--email", "not-an-email"]), 1);
    assert!(e.contains("'not-an-email' is not a valid e-mail address"), "{e}");
    assert_eq!(e.lines().count(), 1, "one readable line: {e}");
    let e = fs.fail(fs.run(&["lead", "add", "--name", "Bad", "--phone", "12"]), 1);
    assert!(e.contains("not a valid phone number"), "{e}");
    let e = fs.fail(fs.run(&["lead", "add", "--name", "Bad", "--follow-up", "next week"]), 1);
    assert!(e.contains("--follow-up") && e.contains("not a time"), "{e}");
    assert_eq!(fs.ids(&[]).len(), before);
    assert!(fs.json(&["search", "bad"]).as_array().is_some_and(Vec::is_empty));
}

#[test]
fn a_store_belongs_to_one_user() {
    let fs = Fs::new();
    // No store yet and no user: nothing to open, nothing created.
    let e = fs.fail(fs.bare(&["lead", "add", "--name", "X"]), 1);
    assert!(e.contains("--user"), "{e}");
    let e = fs.fail(fs.run(&["lead", "list"]), 1);
    assert!(e.contains("no store"), "{e}");
    assert!(!fs.db.exists());

    let id = kim_lead(&fs);
    let e = fs.fail(fs.bare(&["--user", "lee", "lead", "list"]), 1);
    assert!(e.contains("belongs to user 'kim', not 'lee'"), "{e}");
    let e = fs.fail(fs.bare(&["--user", "lee", "lead", "add", "--name", "Intruder"]), 1);
    assert!(e.contains("belongs to user 'kim'"), "{e}");
    // Without --user the store's own user is used.
    let out = fs.bare(&["--json", "lead", "list"]);
    assert!(out.status.success());
    let page: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["items"][0]["id"], id.as_str());
}

#[test]
fn usage_errors_exit_2() {
    let fs = Fs::new();
    kim_lead(&fs);
    for args in [
        &["lead", "list", "--stage", "wonn"][..],
        &["lead", "frobnicate"],
        &["lead", "add", "--custom", "no-equals"],
        &["lead", "list", "--limit", "0"],
        &["activity", "add", "x", "--kind", "call", "--subject", "s", "--lat", "1"],
        &["lead", "list", "--asc", "--desc"],
    ] {
        let out = fs.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("error:"), "{args:?}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_fieldsales"))
        .env_remove("FIELDSALES_DB")
        .args(["lead", "list"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--db"));
}

#[test]
fn bad_ids_and_regions_are_user_errors() {
    let fs = Fs::new();
    kim_lead(&fs);
    let e = fs.fail(fs.run(&["lead", "show", "123"]), 1);
    assert!(e.contains("'123' is not a record id"), "{e}");
    let e = fs.fail(fs.run(&["lead", "show", "01a2241a-8faa-740a-93ad-54d36d994cd0"]), 1);
    assert!(e.contains("lead 01a2241a-8faa-740a-93ad-54d36d994cd0 was not found"), "{e}");
    let e = fs.fail(fs.run(&["activity", "done", "01a2241a-8faa-740a-93ad-54d36d994cd0"]), 1);
    assert!(e.contains("was not found"), "{e}");
    let e = fs.fail(fs.run(&["--region", "XX", "lead", "list"]), 1);
    assert!(e.contains("region"), "{e}");
}

#[test]
fn environment_variables_stand_in_for_global_flags() {
    let fs = Fs::new();
    let out = Command::new(env!("CARGO_BIN_EXE_fieldsales"))
        .env("FIELDSALES_DB", &fs.db)
        .env("FIELDSALES_USER", "kim")
        .env("FIELDSALES_REGION", "US")
        .env("FIELDSALES_TZ", "-05:00")
        .args([
            "lead",
            "add",
            "--name",
            "Jo",
            "--phone",
            "(415) 555-2671",
            "--follow-up",
            "2026-11-28",
        ])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string();
    let lead = &fs.json(&["lead", "show", &id])["lead"];
    assert_eq!(lead["phones"], serde_json::json!(["+14155552671"]));
    assert_eq!(lead["next_follow_up"], 1_795_842_000_000i64, "midnight at UTC-5");
}

/// `--tz` takes an IANA zone, so a time typed in New York is read with the offset of its own
/// date: 09:00 in January is 14:00 UTC (EST), 09:00 in July 13:00 UTC (EDT).
#[test]
fn a_named_zone_reads_times_with_daylight_saving() {
    let fs = Fs::new();
    let winter = fs.add(&["--name", "Jan", "--follow-up", "2026-01-15T09:00"]);
    let summer = fs.add(&["--name", "Jul", "--follow-up", "2026-07-15T09:00"]);
    let show = |id: &str| fs.ok(&["--tz", "America/New_York", "lead", "show", id]);
    // Added in UTC (the tests' default zone), shown in New York.
    assert!(show(&winter).contains("2026-01-15T04:00:00-05:00"), "{}", show(&winter));
    assert!(show(&summer).contains("2026-07-15T05:00:00-04:00"), "{}", show(&summer));
    let ny = fs.json(&[
        "--tz",
        "America/New_York",
        "lead",
        "add",
        "--name",
        "Both",
        "--follow-up",
        "2026-07-15T09:00",
    ]);
    assert_eq!(ny["next_follow_up"], 1_784_120_400_000i64, "13:00 UTC");
    let e = fs.fail(fs.run(&["--tz", "Mars/Olympus", "lead", "list"]), 2);
    assert!(e.contains("IANA"), "{e}");
}

#[test]
fn verify_and_compact_report_on_a_healthy_store() {
    let fs = Fs::new();
    let id = kim_lead(&fs);
    fs.ok(&["lead", "edit", &id, "--notes", "edited"]);
    let report = fs.json(&["verify"]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["documents"], 1);
    assert!(fs.ok(&["verify"]).contains("projection mismatches: 0"));
    assert_eq!(
        fs.json(&["compact"])["compacted"],
        0,
        "every write already stores the whole document"
    );
    assert_eq!(fs.json(&["lead", "show", &id])["lead"]["notes"], "edited");
    assert_eq!(fs.json(&["verify"])["ok"], true);
}

#[test]
fn the_demo_syncs_a_team_through_an_in_process_server() {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales")).arg("demo").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("identical on kim's phone, kim's tablet and park's device: yes"),
        "{text}"
    );
    assert!(text.contains("company: 2 values were entered"), "{text}");
    assert!(text.contains("Wants a demo. Budget approved in Q1. Prefers Tuesdays 🎉"), "{text}");
    assert!(text.contains("projections consistent"), "{text}");
    assert!(text.contains("choi       3    65,000,000 KRW"), "{text}");
    assert!(
        text.contains("refused on the phone, offline: stage 'Quote sent' needs a deal value"),
        "{text}"
    );
    assert!(
        text.contains("  lee phone      sent  0, received  3,"),
        "lee receives the settings, his target and the team's: {text}"
    );
    // kim's plan: 5 % of the first 5,000,000 KRW won (her quota), 8 % of the 3,000,000 above it.
    assert!(
        text.contains("kim  3,000,000 KRW  8,000,000 KRW  5,000,000 KRW  490,000 KRW"),
        "{text}"
    );
    assert!(text.contains("team seoul  leads_captured"), "{text}");
}

#[test]
fn enroll_sync_and_quarantine_from_the_command_line() {
    let server = common::acme();
    let url = &server.url;
    let phone = Fs::new();
    let out = phone.bare(&["enroll", "--server", url, "--code", &server.kim_code]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("enrolled as kim (rep)"));
    let id = phone.json(&["lead", "add", "--name", "Synced Lead", "--company", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sum = phone.json(&["sync"]);
    assert_eq!(sum["sent"], 1);

    let desk = Fs::new();
    assert!(desk.bare(&["enroll", "--server", url, "--code", &server.boss_code]).status.success());
    let as_boss = |args: &[&str]| -> Value {
        let out = desk.bare(&[&["--json"], args].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(as_boss(&["sync"])["received"], 1);
    assert_eq!(as_boss(&["lead", "show", &id])["lead"]["company"], "Acme");

    // A rep giving the lead away is refused; the edit is kept in quarantine.
    phone.ok(&["lead", "edit", &id, "--owner", "boss", "--notes", "over to you"]);
    let sum = phone.json(&["sync"]);
    assert_eq!(sum["rejected"], 1);
    let q = phone.json(&["quarantine", "list"]);
    assert_eq!(q[0]["code"], "forbidden");
    let export = phone.ok(&["quarantine", "export"]);
    let v: Value = serde_json::from_str(&export).unwrap();
    assert!(v[0]["change_hex"].as_str().unwrap().len() > 20);
    assert_eq!(phone.json(&["lead", "show", &id])["lead"]["owner"], "kim");

    // A used code cannot enroll again; the error is readable.
    let other = Fs::new();
    let out = other.bare(&["enroll", "--server", url, "--code", &server.kim_code]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("enrollment code is unknown, used or expired")
    );
}

#[test]
fn report_prints_team_and_rep_figures_as_text_json_and_csv() {
    let fs = Fs::new();
    let id = fs.json(&[
        "lead",
        "add",
        "--name",
        "Won deal",
        "--event",
        "Expo",
        "--value",
        "1000000",
        "--currency",
        "KRW",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    fs.ok(&["activity", "add", &id, "--kind", "call", "--subject", "first call"]);
    fs.ok(&["lead", "edit", &id, "--stage", "won"]);
    fs.ok(&[
        "lead",
        "add",
        "--name",
        "Open deal",
        "--stage",
        "proposal",
        "--value",
        "500000",
        "--currency",
        "KRW",
    ]);
    let j = fs.json(&["report", "--period", "month"]);
    assert_eq!(j["team"]["win_rate"]["won"], 1);
    assert_eq!(j["team"]["captured"], 2);
    assert_eq!(j["reps"][0]["owner"], "kim");
    let text = fs.ok(&["report"]);
    assert!(text.contains("win rate        100.0% (1 won, 0 lost)"), "{text}");
    assert!(text.contains("300,000 KRW"), "60% of the open proposal: {text}");
    let csv_text = fs.ok(&["report", "--csv"]);
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "(team)");
    assert_eq!(&rows[1][2], "1");
    let out = fs.run(&["report", "--from", "2026-01-01"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--from and --to go together"));
}

#[test]
fn import_checks_maps_and_round_trips_an_export() {
    let a = Fs::new();
    let id = kim_lead(&a);
    a.add(&[
        "--company",
        "Globex",
        "--stage",
        "lost",
        "--lost-reason",
        "price",
        "--value",
        "1500.50",
        "--currency",
        "USD",
    ]);
    let file = a.dir.path().join("leads.csv");
    let path = file.to_str().expect("utf-8 path");
    a.ok(&["export", "--format", "csv", "--out", path]);
    // A filtered export: the lost lead only, and none created before this month.
    let lost = a.ok(&["export", "--format", "csv", "--stage", "lost", "--period", "month"]);
    assert_eq!(lost.lines().count(), 2, "{lost}");
    assert!(lost.contains(",lost,price,"), "{lost}");
    let none = a.ok(&["export", "--format", "csv", "--to", "2000-01-01"]);
    assert_eq!(none.lines().count(), 1, "{none}");

    // A dry run into a store that does not exist yet checks the rows and creates nothing.
    let b = Fs::new();
    let text = b.ok(&["import", path, "--dry-run"]);
    assert!(text.contains("  id                → id\n"), "{text}");
    assert!(text.contains("  created_at        → ignored\n"), "{text}");
    assert!(
        text.contains(
            "dry run: 2 rows read, 2 would be imported, 0 with errors; nothing was written"
        ),
        "{text}"
    );
    assert!(!b.db.exists());
    assert!(b.ok(&["import", path]).contains("imported 2 of 2 rows"));
    let mut want = a.ids(&["--sort", "created"]);
    let mut got = b.ids(&["--sort", "created"]);
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let lead = b.json(&["lead", "show", &id]);
    assert_eq!(lead["lead"]["name"], "김민지");
    assert_eq!(lead["lead"]["notes"], "Loves the demo 🚀\nCall back");

    // Importing the same file again is refused row by row, and writes nothing.
    let out = b.run(&["import", path]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("line 2, id: already imported: lead {id} is in the store")),
        "{text}"
    );
    assert!(text.contains("nothing was imported: 2 rows with errors"), "{text}");
    assert_eq!(b.ids(&[]).len(), 2);

    // Another app's file: overrides, a default currency and a bad row.
    let other = b.dir.path().join("crm.csv");
    std::fs::write(&other, "\u{feff}Full Name;Org;Secret;Deal Value;Lead Status\r\nPark;Initech;x;\"2,000,000\";Closed Won\r\nChoi;;;12.5;Open\r\n").expect("write");
    let other = other.to_str().expect("utf-8 path");
    let args = ["import", other, "--map", "org=company", "--ignore", "SECRET", "--currency", "KRW"];
    let out = b.run(&[&["--json"], &args[..]].concat());
    assert_eq!(out.status.code(), Some(1));
    let r: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(
        r["mapping"][1],
        serde_json::json!({ "header": "Org", "target": "company", "by": "caller" })
    );
    assert_eq!(r["mapping"][2]["target"], "ignore");
    assert_eq!(r["errors"][0]["row"], 3);
    assert_eq!(r["errors"][0]["column"], "Deal Value");
    assert_eq!((r["valid_rows"].as_u64(), r["imported"].as_u64()), (Some(1), Some(0)));
    let text = String::from_utf8_lossy(&b.run(&[&args[..], &["--skip-invalid"]].concat()).stdout)
        .into_owned();
    assert!(text.contains("imported 1 of 2 rows, 1 row with errors skipped"), "{text}");
    let park = b.json(&["search", "Park"]);
    assert_eq!(park[0]["company"], "Initech");
    assert_eq!(park[0]["stage"], "won");

    let out = b.run(&["import", other, "--map", "Nope=company"]);
    let e = b.fail(out, 1);
    assert!(e.contains("the file has no column 'Nope'"), "{e}");
}

#[test]
fn duplicates_are_listed_and_merged_from_the_command_line() {
    let fs = Fs::new();
    let a = fs.add(&["--name", "Kim Minji", "--email", "minji@acme.co.kr", "--tag", "expo"]);
    let b = fs.add(&[
        "--name",
        "Minji",
        "--email",
        "MINJI@acme.co.kr",
        "--company",
        "Acme",
        "--tag",
        "vip",
    ]);
    fs.add(&["--name", "Someone else"]);
    let groups = fs.json(&["duplicates"]);
    assert_eq!(groups.as_array().unwrap().len(), 1, "{groups}");
    assert_eq!(groups[0]["reason"], "same_email");
    assert!(fs.ok(&["duplicates"]).contains("minji@acme.co.kr"));
    let merged = fs.json(&["lead", "merge", &a, &b]);
    assert_eq!(merged["company"], "Acme");
    assert_eq!(merged["tags"], serde_json::json!(["expo", "vip"]));
    assert_eq!(fs.json(&["lead", "show", &b])["lead"]["merged_into"], a.as_str());
    assert!(fs.ok(&["duplicates"]).contains("no likely duplicates"));
}

#[test]
fn stages_targets_plans_and_their_figures_in_the_report() {
    let fs = Fs::new();
    fs.add(&["--name", "Seed"]);
    let shown = fs.ok(&["stages", "show"]);
    assert!(shown.contains("proposal") && shown.contains("60%"), "{shown}");

    // A renamed stage with a rule: a lead without a deal value is refused, with the new name.
    fs.ok(&[
        "stages",
        "set",
        "proposal",
        "--name",
        "Quote sent",
        "--probability",
        "25",
        "--require",
        "deal_value",
    ]);
    let s = fs.json(&["stages", "show"]);
    let proposal =
        s["stages"].as_array().unwrap().iter().find(|x| x["stage"] == "proposal").unwrap().clone();
    assert_eq!(
        (proposal["name"].as_str(), proposal["probability_bp"].as_u64()),
        (Some("Quote sent"), Some(2_500))
    );
    assert_eq!(proposal["required"], serde_json::json!(["deal_value"]));
    let err = fs.fail(fs.run(&["lead", "add", "--name", "No value", "--stage", "proposal"]), 1);
    assert!(err.contains("stage 'Quote sent' needs a deal value"), "{err}");
    fs.add(&["--name", "Quote", "--stage", "proposal", "--value", "1000", "--currency", "USD"]);
    assert!(fs.fail(fs.run(&["stages", "set", "new"]), 1).contains("nothing to change"));
    assert_eq!(fs.run(&["stages", "set", "new", "--probability", "101"]).status.code(), Some(1));

    // Targets and a plan for kim, this month.
    fs.ok(&["target", "set", "--rep", "kim", "--metric", "deals_won", "--value", "2"]);
    let t = fs.json(&[
        "target",
        "set",
        "--rep",
        "kim",
        "--metric",
        "won_value",
        "--value",
        "1000",
        "--currency",
        "USD",
    ]);
    assert_eq!(t["value"], 100_000);
    fs.ok(&["target", "set", "--team", "east", "--metric", "leads_captured", "--value", "10"]);
    let list = fs.ok(&["target", "list"]);
    assert!(
        list.contains("deals_won") && list.contains("1,000.00 USD") && list.contains("team east"),
        "{list}"
    );
    assert_eq!(fs.json(&["target", "list"]).as_array().unwrap().len(), 3);
    assert!(
        fs.fail(
            fs.run(&["target", "set", "--rep", "kim", "--metric", "won_value", "--value", "5"]),
            1
        )
        .contains("needs --currency")
    );
    let plan = fs.ok(&[
        "plan",
        "set",
        "kim",
        "--base",
        "3000",
        "--currency",
        "USD",
        "--rate",
        "10",
        "--tier",
        "100:15",
    ]);
    assert!(plan.contains("3,000.00 USD") && plan.contains("15% above 100% of quota"), "{plan}");
    assert_eq!(fs.json(&["plan", "show"])[0]["rate_bp"], 1_000);

    // Kim wins 1,500 USD: 1,000 at 10 % and 500 above quota at 15 % = 175 USD.
    let won = fs.add(&["--name", "Big win", "--value", "1500", "--currency", "USD"]);
    fs.ok(&["lead", "edit", &won, "--stage", "won"]);
    let text = fs.ok(&["report"]);
    assert!(text.contains("Quote sent"), "the renamed stage: {text}");
    assert!(text.contains("250.00 USD"), "25% of the open 1,000 USD quote: {text}");
    assert!(
        text.contains("Targets") && text.contains("Commission") && text.contains("175.00 USD"),
        "{text}"
    );
    let j = fs.json(&["report"]);
    let deals = j["attainment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["metric"] == "deals_won")
        .unwrap()
        .clone();
    assert_eq!(
        (deals["progress"]["actual"].as_i64(), deals["progress"]["attainment_bp"].as_i64()),
        (Some(1), Some(5_000))
    );
    let team = j["attainment"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["target"]["subject_kind"] == "team")
        .unwrap()
        .clone();
    assert_eq!(team["progress"]["actual"], 3);
    assert_eq!(
        j["commission"][0]["commission"],
        serde_json::json!([{"amount_minor": 17_500, "currency": "USD"}])
    );
    assert_eq!(j["team"]["win_rate"]["won"], 1, "the report's own fields are still there");
    let csv_text = fs.ok(&["report", "--csv"]);
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert!(rows[0][col("targets")].contains("leads_captured 3/10 30%"), "{csv_text}");
    assert_eq!(&rows[1][col("commission")], "175.00 USD");
    assert_eq!(&rows[1][col("base_pay")], "3,000.00 USD");
    assert!(rows[1][col("targets")].contains("deals_won 1/2 50%"), "{csv_text}");
    let verify = fs.json(&["verify"]);
    assert_eq!(verify["ok"], true);
}
