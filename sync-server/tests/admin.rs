//! The `fieldsales-server admin` commands, run as the real binary on a data directory that a
//! running server uses at the same time.

mod common;
use common::*;
use fieldsales_core::sync::SyncError;
use std::process::Command;

fn admin(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_fieldsales-server"))
        .arg("admin")
        .arg("--data")
        .arg(dir)
        .arg("--json")
        .args(args)
        .output()
        .unwrap()
}

/// Runs an admin command that must succeed and returns its JSON.
fn ok(dir: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = admin(dir, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs an admin command that must fail and returns what it printed on stderr.
fn fails(dir: &std::path::Path, args: &[&str]) -> String {
    let out = admin(dir, args);
    assert!(
        !out.status.success(),
        "{args:?} should fail; printed {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_commands_set_up_a_team_enroll_a_phone_and_revoke_it_while_the_server_runs() {
    let s = Server::start().await;
    let dir = s.dir.path();

    let ws = ok(dir, &["workspace", "create", "acme"]);
    let ws_id = ws["id"].as_str().unwrap().to_string();
    let all = ok(dir, &["workspace", "list"]);
    assert!(
        all.as_array().unwrap().iter().any(|w| w["id"] == ws_id.as_str() && w["name"] == "acme"),
        "{all}"
    );
    ok(dir, &["team", "create", "--workspace", "acme", "seoul"]);
    let kim =
        ok(dir, &["user", "add", "--workspace", "acme", "--role", "rep", "--team", "seoul", "kim"]);
    assert_eq!(kim["role"], "rep");
    let code = kim["enrollment_code"].as_str().unwrap();

    let phone = Device::enroll(&s.url, code).await.unwrap();
    let tablet_code = ok(dir, &["user", "code", "--workspace", &ws_id, "kim"]);
    let tablet =
        Device::enroll(&s.url, tablet_code["enrollment_code"].as_str().unwrap()).await.unwrap();
    assert!(
        matches!(
            Device::enroll(&s.url, code).await,
            Err(SyncError::Server { status: 400..=499, .. })
        ),
        "a code works once"
    );
    phone.owned("Kim Minji", "kim");
    phone.sync().await.unwrap();

    let devices = ok(dir, &["device", "list", "--workspace", "acme"]);
    let devices = devices.as_array().unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d["user_id"] == "kim" && d["revoked"] == false));
    let revoked = ok(dir, &["device", "revoke", &phone.device_id]);
    assert_eq!(revoked["revoked"], phone.device_id.as_str());

    assert!(
        matches!(phone.sync().await, Err(SyncError::Unauthorized)),
        "the lost phone is cut off"
    );
    tablet.sync().await.expect("the user's other device keeps working");
    assert_eq!(tablet.lead_ids().len(), 1);
    let devices = ok(dir, &["device", "list", "--workspace", "acme"]);
    let revoked: Vec<_> =
        devices.as_array().unwrap().iter().filter(|d| d["revoked"] == true).collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["id"], phone.device_id.as_str());

    ok(dir, &["team", "create", "--workspace", "acme", "busan"]);
    ok(
        dir,
        &["user", "add", "--workspace", "acme", "--role", "manager", "--team", "seoul", "park"],
    );
    let managed = ok(dir, &["team", "manage", "--workspace", "acme", "--team", "busan", "park"]);
    assert_eq!(managed["teams"], serde_json::json!(["busan", "seoul"]));
    assert!(
        fails(dir, &["team", "manage", "--workspace", "acme", "--team", "busan", "kim"])
            .contains("only managers")
    );
    assert!(
        fails(dir, &["team", "manage", "--workspace", "acme", "--team", "jeju", "park"])
            .contains("no team")
    );

    // Bad input: a clear error and a failing exit status, nothing half done.
    assert!(fails(dir, &["workspace", "create", "acme"]).contains("exists already"));
    assert!(fails(dir, &["workspace", "create", "no spaces"]).contains("must be"));
    assert!(
        fails(dir, &["team", "create", "--workspace", "nowhere", "busan"]).contains("no workspace")
    );
    assert!(
        fails(dir, &["user", "add", "--workspace", "acme", "--role", "boss", "lee"])
            .contains("boss")
    );
    assert!(
        fails(dir, &["user", "add", "--workspace", "acme", "--role", "manager", "lee"])
            .contains("--team")
    );
    assert!(
        fails(
            dir,
            &["user", "add", "--workspace", "acme", "--role", "rep", "--team", "jeju", "lee"]
        )
        .contains("no team")
    );
    assert!(fails(dir, &["device", "revoke", &phone.device_id]).contains("no active device"));
    assert!(
        fails(dir, &["user", "code", "--workspace", "acme", "lee"]).contains("no user"),
        "lee was never added"
    );
    s.stop().await;
}

/// Runs an admin command in text mode (what an admin reads on a terminal).
fn text(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fieldsales-server"))
        .arg("admin")
        .arg("--data")
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Issue 11: `device list` printed a device name's terminal escapes and CR/LF raw, so a device
/// could repaint the admin's terminal or forge lines. Names are escaped now. And the admin sees
/// enrollment lockouts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_names_are_printed_escaped_and_lockouts_are_listed() {
    let s = Server::start().await;
    let dir = s.dir.path();
    ok(dir, &["workspace", "create", "acme"]);
    let kim = ok(dir, &["user", "add", "--workspace", "acme", "--role", "rep", "kim"]);
    let actor = fieldsales_core::store::new_actor().to_hex_string();
    let evil = "\u{1b}[2J\u{1b}[31mphone\r\nffffffff  kim  fake device  active";
    fieldsales_core::sync::enroll(&s.url, kim["enrollment_code"].as_str().unwrap(), evil, &actor)
        .await
        .unwrap();
    let listed = text(dir, &["device", "list", "--workspace", "acme"]);
    assert!(!listed.contains('\u{1b}') && !listed.contains('\r'), "{listed:?}");
    assert_eq!(listed.trim_end().lines().count(), 1, "one device, one line: {listed:?}");
    assert!(listed.contains("\\u{1b}[2J"), "{listed:?}");
    // JSON keeps the name as it is (escaped by JSON itself).
    let json = ok(dir, &["device", "list", "--workspace", "acme"]);
    assert_eq!(json[0]["name"], evil);

    for i in 0..10 {
        let r = fieldsales_core::sync::enroll(&s.url, &format!("WRONG-{i}"), "x", &actor).await;
        assert!(r.is_err());
    }
    let lockouts = text(dir, &["lockouts"]);
    assert!(lockouts.contains("127.0.0.1") && lockouts.contains("locked for"), "{lockouts}");
    let json = ok(dir, &["lockouts"]);
    assert_eq!(json[0]["failures"], 10);
    ok(dir, &["lockouts", "--clear", "127.0.0.1"]);
    assert_eq!(ok(dir, &["lockouts"]), serde_json::json!([]));
    s.stop().await;
}
