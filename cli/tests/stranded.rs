//! Issue 14 from the command line: a quarantine a person can read and act on
//! (`quarantine show|apply|discard`), a revoked store enrolled again, and the clock
//! (`FIELDSALES_NOW`, corrected by the server's time once synced).

mod common;
use common::{AdminStore, Fs};
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text_of(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn a_refused_change_is_shown_applied_and_discarded_in_plain_words() {
    let server = common::acme();
    let phone = Fs::new();
    text_of(&phone.bare(&["enroll", "--server", &server.url, "--code", &server.kim_code]));
    let id =
        phone.add(&["--name", "Yuna Jung", "--company", "Hanbit", "--notes", "Met at the booth."]);
    assert_eq!(phone.json(&["sync"])["sent"], 1);

    // A rep hands the lead to her manager and adds a note: the server refuses the change.
    phone.ok(&[
        "lead",
        "edit",
        &id,
        "--owner",
        "boss",
        "--notes",
        "Met at the booth. Over to you.",
    ]);
    assert_eq!(phone.json(&["sync"])["rejected"], 1);
    let list = phone.ok(&["quarantine", "list"]);
    assert!(list.contains("lead \u{201c}Yuna Jung\u{201d}: owner, notes  [forbidden]"), "{list}");
    let entry = phone.json(&["quarantine", "list"])[0]["id"].as_i64().unwrap().to_string();

    let show = phone.ok(&["quarantine", "show", &entry]);
    for expected in [
        &format!("quarantine entry {entry}: lead \u{201c}Yuna Jung\u{201d} ({id})"),
        "refused      forbidden: only managers and admins may give a lead to someone else",
        "what you changed:",
        "owner          kim → boss",
        "notes          added \u{201c}Over to you.\u{201d}",
        "why          The server does not let you make this change",
        "what to do   `quarantine apply` writes the values shown here again",
    ] {
        assert!(show.contains(expected), "missing {expected:?} in:\n{show}");
    }
    assert_eq!(phone.json(&["quarantine", "show", &entry])["detail"]["record"], "Yuna Jung");

    // Applied where a rep may: the note goes, the hand-over is left out, and says why.
    let applied = phone.ok(&["quarantine", "apply", &entry]);
    assert!(applied.contains("applied to \u{201c}Yuna Jung\u{201d} as a new change"), "{applied}");
    assert!(applied.contains("notes          added \u{201c}Over to you.\u{201d}"), "{applied}");
    assert!(applied.contains("left out: owner → boss: only managers"), "{applied}");
    let sum = phone.json(&["sync"]);
    assert_eq!((sum["sent"].as_i64(), sum["rejected"].as_i64()), (Some(1), Some(0)));
    let lead = phone.json(&["lead", "show", &id]);
    assert_eq!(lead["lead"]["notes"], "Met at the booth. Over to you.");
    assert_eq!(lead["lead"]["owner"], "kim");
    assert_eq!(phone.ok(&["quarantine", "list"]), "nothing in quarantine\n");

    // Another refusal, dropped on purpose.
    phone.ok(&["lead", "edit", &id, "--owner", "boss"]);
    phone.json(&["sync"]);
    let entry = phone.json(&["quarantine", "list"])[0]["id"].as_i64().unwrap().to_string();
    let out = phone.ok(&["quarantine", "discard", &entry]);
    assert!(out.contains(&format!("discarded quarantine entry {entry}")), "{out}");
    let out = phone.run(&["quarantine", "show", &entry]);
    assert!(phone.fail(out, 1).contains("not found"));
}

#[test]
fn a_revoked_store_is_enrolled_again_and_sends_what_waited() {
    let server = common::acme();
    let ws = server.admin.list_workspaces().unwrap()[0].id.clone();
    let phone = Fs::new();
    text_of(&phone.bare(&["enroll", "--server", &server.url, "--code", &server.kim_code]));
    for name in ["One", "Two", "Three"] {
        phone.add(&["--name", name]);
    }
    let device = server.admin.list_devices(&ws).unwrap()[0].id.clone();
    server.admin.revoke_device(&device).unwrap();
    let out = phone.run(&["sync"]);
    assert!(phone.fail(out, 1).contains("enroll it again"));

    // Someone else's code cannot take the store, and stays good for its owner.
    let out = phone.bare(&["enroll", "--server", &server.url, "--code", &server.boss_code]);
    let err = phone.fail(out, 1);
    assert!(err.contains("this code enrolls user 'boss'"), "{err}");
    let desk = Fs::new();
    text_of(&desk.bare(&["enroll", "--server", &server.url, "--code", &server.boss_code]));

    let code = server.admin.enrollment_code(&ws, "kim").unwrap();
    let out = text_of(&phone.bare(&["enroll", "--server", &server.url, "--code", &code]));
    assert!(out.contains("enrolled this store again as kim (rep)"), "{out}");
    assert!(out.contains(&format!("device {device} has a new token")), "{out}");
    assert!(out.contains("3 changes waiting here"), "{out}");
    assert_eq!(phone.json(&["sync"])["sent"], 3);
    assert_eq!(json_of(&desk.bare(&["--json", "sync"]))["received"], 3);
}

#[test]
fn the_clock_can_be_set_and_is_corrected_by_the_servers_once_synced() {
    let fs = Fs::new();
    let run = |now: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales"))
            .env("FIELDSALES_NOW", now)
            .env("FIELDSALES_TZ", "UTC")
            .arg("--db")
            .arg(&fs.db)
            .args(["--user", "kim", "--json"])
            .args(args)
            .output()
            .unwrap()
    };
    let lead = json_of(&run("2026-11-02T09:00:00Z", &["lead", "add", "--name", "Set clock"]));
    assert_eq!(lead["created_at"], 1_793_610_000_000_i64);
    let err = fs.fail(run("sometime", &["lead", "list"]), 1);
    assert!(err.contains("FIELDSALES_NOW") && err.contains("'sometime'"), "{err}");

    // A phone three hours fast: once enrolled, what it writes carries the server's time.
    let server = common::acme();
    let phone = Fs::new();
    let enroll = std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales"))
        .env("FIELDSALES_NOW", "+3h")
        .arg("--db")
        .arg(&phone.db)
        .args(["enroll", "--server", &server.url, "--code", &server.kim_code])
        .output()
        .unwrap();
    text_of(&enroll);
    let before =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as i64;
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales"))
        .env("FIELDSALES_NOW", "+3h")
        .arg("--db")
        .arg(&phone.db)
        .args(["--json", "lead", "add", "--name", "Fast phone"])
        .output()
        .unwrap();
    let created = json_of(&added)["created_at"].as_i64().unwrap();
    // Without the correction it would be three hours ahead; a minute covers the round trip.
    assert!((created - before).abs() < 60_000, "created {created}, now {before}");
}
