//! The PostgreSQL backend with several server instances on one database (always on
//! PostgreSQL, a real cluster of this test process): feed numbers that never let a follower
//! skip a change, devices spread over two and three instances converging, an instance killed
//! mid-push losing no acknowledged change, live updates across instances, schema upgrades, the
//! admin commands, and `admin migrate` from an embedded store keeping devices' tokens and
//! cursors.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use fieldsales_core::sync::protocol::*;
use fieldsales_core::*;
use fieldsales_server::backend::Role;

/// `n` in-process servers on one new database.
async fn instances(n: usize) -> Vec<Server> {
    let db = Db::Postgres(pg::cluster().database());
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Server::start_on(db.clone(), tempfile::tempdir().unwrap(), |k| k).await);
    }
    out
}

fn hash_of(bytes: &[u8]) -> String {
    automerge::Change::from_bytes(bytes.to_vec()).unwrap().hash().to_string()
}

/// Writers on two instances push into one workspace as fast as they can while followers pull
/// the feed, alternating between the instances with one cursor. If a feed number could become
/// visible before a smaller one (two instances committing out of order), a follower would step
/// past the smaller one and never see it. Every follower must receive every change exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_of_one_workspace_written_from_two_instances_get_every_change_once() {
    let servers = instances(2).await;
    let ws = servers[0].workspace("acme");
    let mut writers = Vec::new();
    for i in 0..6 {
        writers.push(servers[i % 2].device(&ws, &format!("rep{i}"), Role::Rep, None).await);
    }
    let mut followers = Vec::new();
    for i in 0..3 {
        followers.push(servers[i % 2].device(&ws, "root", Role::Admin, None).await);
    }
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    // Each follower stands on the (empty) feed before anything is written: from there on,
    // everything reaches it as changes.
    let mut cursors = Vec::new();
    for f in &followers {
        let page = post_pull(&urls[0], &f.token(), "", 50).await;
        assert!(page.items.is_empty() && !page.more);
        cursors.push(page.cursor);
    }
    let writing = Arc::new(AtomicUsize::new(writers.len()));
    let mut tasks = Vec::new();
    for w in writers {
        let writing = writing.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..12 {
                for k in 0..3 {
                    w.owned(&format!("{} {n}.{k}", w.user_id()), w.user_id());
                }
                w.sync().await.unwrap();
            }
            writing.fetch_sub(1, Ordering::SeqCst);
        }));
    }
    let mut pulls = Vec::new();
    for (f, mut cursor) in followers.iter().zip(cursors) {
        let (token, urls, writing) = (f.token(), urls.clone(), writing.clone());
        pulls.push(tokio::spawn(async move {
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            let mut turn = 0usize;
            loop {
                let done = writing.load(Ordering::SeqCst) == 0;
                let page = post_pull(&urls[turn % urls.len()], &token, &cursor, 50).await;
                turn += 1;
                for item in &page.items {
                    match item {
                        PullItem::Changes { changes, .. } => {
                            for c in changes {
                                *seen.entry(hash_of(c)).or_default() += 1;
                            }
                        }
                        other => panic!("a follower on the feed got {other:?}"),
                    }
                }
                cursor = page.cursor;
                if done && !page.more {
                    return seen;
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = feed_hashes(&servers[0]);
    assert_eq!(all.len(), 6 * 12 * 3);
    for (i, p) in pulls.into_iter().enumerate() {
        let seen = p.await.unwrap();
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "follower {i} got changes twice: {twice:?}");
        let got: BTreeSet<String> = seen.into_keys().collect();
        let missed: Vec<_> = all.difference(&got).collect();
        assert!(missed.is_empty(), "follower {i} never got {} changes: {missed:?}", missed.len());
    }
}

fn edit(d: &Device, round: usize, i: usize) {
    let ids = d.lead_ids();
    if ids.is_empty() || round.is_multiple_of(3) {
        d.owned(&format!("r{round} d{i}"), "kim");
        return;
    }
    let id = &ids[(round * 7 + i) % ids.len()];
    let notes = d.lead(id).unwrap().notes + &format!("r{round} d{i}; ");
    d.update_lead(
        id,
        LeadPatch {
            notes: Some(notes),
            add_tags: vec![format!("t{}", (round + i) % 4)],
            company: Some(format!("Co {}", (round * i) % 3)),
            ..Default::default()
        },
    )
    .unwrap();
}

/// The convergence scenario across instances: phones and tablets of a rep, a manager and an
/// admin, spread over the instances and moved between them every round, editing the same
/// leads concurrently, end with stores identical to each other and to the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn devices_spread_over_two_and_three_instances_converge() {
    for n in [2, 3] {
        let servers = instances(n).await;
        let ws = servers[0].workspace("acme");
        servers[0].team(&ws, "t");
        let mut devices = Vec::new();
        for (i, (user, role)) in [
            ("kim", Role::Rep),
            ("kim", Role::Rep),
            ("boss", Role::Manager),
            ("boss", Role::Manager),
            ("root", Role::Admin),
            ("root", Role::Admin),
        ]
        .into_iter()
        .enumerate()
        {
            let team = (role != Role::Admin).then_some("t");
            devices.push(servers[i % n].device(&ws, user, role, team).await);
        }
        for round in 0..8 {
            for (i, d) in devices.iter().enumerate() {
                edit(d, round, i);
                edit(d, round + 1, i);
            }
            let mut syncs = Vec::new();
            for (i, d) in devices.iter().enumerate() {
                d.set_server(&servers[(i + round) % n].url);
                syncs.push(d.sync());
            }
            for r in futures_util::future::join_all(syncs).await {
                assert_eq!(r.unwrap().rejected, 0);
            }
        }
        for d in devices.iter().chain(devices.iter()) {
            d.sync().await.unwrap();
        }
        let refs: Vec<&Device> = devices.iter().collect();
        assert_converged(&refs, &servers[0]);
        assert!(devices[0].lead_ids().len() >= 6, "{n} instances");
    }
}

/// Two server processes on one database; devices push to both. One is SIGKILLed while pushes
/// are under way: the devices carry on with the other, and in the end every device and the
/// database hold the same documents, so no change a device was told was accepted (and deleted
/// from its outbox) was lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_instance_killed_mid_push_loses_no_acknowledged_change() {
    let db = Db::Postgres(pg::cluster().database());
    let admin = db.admin().await;
    let ws = admin.create_workspace("acme").unwrap().id;
    admin.create_team(&ws, "t").unwrap();
    let mut a = ServerProcess::start(&db);
    let b = ServerProcess::start(&db);
    let mut codes = vec![admin.add_user(&ws, "kim", Role::Rep, Some("t")).unwrap().enrollment_code];
    codes.push(admin.enrollment_code(&ws, "kim").unwrap());
    codes.push(admin.add_user(&ws, "boss", Role::Manager, Some("t")).unwrap().enrollment_code);
    codes.push(admin.add_user(&ws, "root", Role::Admin, None).unwrap().enrollment_code);
    let mut devices = Vec::new();
    for (i, c) in codes.iter().enumerate() {
        let url = if i % 2 == 0 { &a.url } else { &b.url };
        devices.push(Arc::new(Device::enroll(url, c).await.unwrap()));
    }
    let killed = Arc::new(AtomicBool::new(false));
    let b_url = b.url.clone();
    let mut tasks = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        let (d, killed, b_url) = (d.clone(), killed.clone(), b_url.clone());
        tasks.push(tokio::spawn(async move {
            let mut moved = false;
            for n in 0..30 {
                d.create_leads(
                    (0..20)
                        .map(|k| LeadDraft {
                            name: Some(format!("d{i} n{n} k{k}")),
                            owner: Some("kim".into()),
                            ..Default::default()
                        })
                        .collect(),
                )
                .unwrap();
                if d.sync().await.is_err() {
                    assert!(killed.load(Ordering::SeqCst), "a sync failed before the kill");
                    d.set_server(&b_url);
                    moved = true;
                }
            }
            moved
        }));
    }
    eventually("pushes under way on both", || async { feed_len(&db) >= 400 }).await;
    killed.store(true, Ordering::SeqCst);
    a.kill();
    let mut moved = 0;
    for t in tasks {
        moved += usize::from(t.await.unwrap());
    }
    assert!(moved >= 1, "a device of the killed instance moved to the other");
    for d in devices.iter().chain(devices.iter()) {
        d.set_server(&b.url);
        assert_eq!(d.sync().await.unwrap().rejected, 0);
    }
    let refs: Vec<&Device> = devices.iter().map(|d| &**d).collect();
    assert_converged(&refs, &db);
    assert_eq!(devices[0].lead_ids().len(), 4 * 30 * 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_on_one_instance_hears_of_a_push_to_another() {
    let servers = instances(2).await;
    let ws = servers[0].workspace("acme");
    let kim = servers[0].device(&ws, "kim", Role::Rep, None).await;
    let root = servers[1].device(&ws, "root", Role::Admin, None).await;
    let mut stream = EventStream::open(&servers[1].url, &root.token()).await.unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("ready"));
    kim.owned("Via A", "kim");
    kim.sync().await.unwrap();
    assert_eq!(stream.next().await.as_deref(), Some("feed"));
    assert_eq!(root.sync().await.unwrap().received, 1);
}

/// A database at schema v1 with data in it is upgraded when a server starts on it, keeping
/// its data; a database from a newer server is refused, not touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_schema_is_upgraded_and_a_newer_one_refused() {
    let url = pg::cluster().database();
    fieldsales_server::postgres::schema::migrate_url(&url, 1).await.unwrap();
    let at = |url: &str| {
        pg::Cluster::rows(
            url,
            "SELECT string_agg(version::text, ',' ORDER BY version) FROM fieldsales_schema",
        )
    };
    assert_eq!(at(&url), vec!["1"]);
    let name = url.rsplit('/').next().unwrap();
    pg::cluster().sql(
        name,
        "INSERT INTO workspaces VALUES ('w1', 'acme', 0); INSERT INTO users VALUES ('w1', 'kim', 'rep', NULL, 0);",
    );
    let db = Db::Postgres(url.clone());
    let s = Server::start_on(db, tempfile::tempdir().unwrap(), |k| k).await;
    assert_eq!(at(&url), vec![format!("1,{}", fieldsales_server::postgres::schema::SCHEMA.len())]);
    let code = s.admin.enrollment_code("acme", "kim").unwrap();
    let kim = Device::enroll(&s.url, &code).await.unwrap();
    kim.owned("after the upgrade", "kim");
    assert_eq!(kim.sync().await.unwrap().sent, 1);
    drop(s);

    pg::cluster().sql(name, "INSERT INTO fieldsales_schema VALUES (99, 0)");
    let err = fieldsales_server::postgres::PgBackend::connect(&url).await.err().unwrap();
    assert!(err.to_string().contains("newer server"), "{err}");
}

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fieldsales-server")).args(args).output().unwrap()
}

fn cli_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["admin"];
    all.extend_from_slice(args);
    let out = cli(&all);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_commands_work_against_postgres() {
    let url = pg::cluster().database();
    let ws = cli_json(&["--database", &url, "--json", "workspace", "create", "acme"]);
    assert_eq!(ws["name"], "acme");
    cli_json(&["--database", &url, "--json", "team", "create", "--workspace", "acme", "seoul"]);
    let kim = cli_json(&[
        "--database",
        &url,
        "--json",
        "user",
        "add",
        "--workspace",
        "acme",
        "--role",
        "rep",
        "--team",
        "seoul",
        "kim",
    ]);
    let s = Server::start_on(Db::Postgres(url.clone()), tempfile::tempdir().unwrap(), |k| k).await;
    let phone = Device::enroll(&s.url, kim["enrollment_code"].as_str().unwrap()).await.unwrap();
    let devices =
        cli_json(&["--database", &url, "--json", "device", "list", "--workspace", "acme"]);
    assert_eq!(devices[0]["id"], phone.device_id.as_str());
    assert_eq!(devices[0]["revoked"], false);
    cli_json(&["--database", &url, "--json", "device", "revoke", &phone.device_id]);
    assert!(matches!(phone.sync().await, Err(fieldsales_core::sync::SyncError::Unauthorized)));
    let again = cli(&["admin", "--database", &url, "workspace", "create", "acme"]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let both = cli(&["admin", "--database", &url, "--data", "/tmp/x", "workspace", "list"]);
    assert!(String::from_utf8_lossy(&both.stderr).contains("not both"));
    let backup = cli(&["admin", "--database", &url, "backup", "--to", "/tmp/never.db"]);
    assert!(String::from_utf8_lossy(&backup.stderr).contains("pg_dump"));
}

/// An embedded store moved into PostgreSQL with `admin migrate`: the devices carry on with the
/// server on PostgreSQL with the tokens they have, and their cursors still stand on the feed,
/// so the manager's next sync receives the one new change, not everything again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_store_migrated_to_postgres_keeps_devices_tokens_and_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start_on(Db::Sqlite(dir.path().into()), dir, |k| k).await;
    let ws = s.workspace("acme");
    s.team(&ws, "t");
    let kim = s.device(&ws, "kim", Role::Rep, Some("t")).await;
    let boss = s.device(&ws, "boss", Role::Manager, Some("t")).await;
    for i in 0..5 {
        kim.owned(&format!("lead {i}"), "kim");
    }
    kim.sync().await.unwrap();
    assert_eq!(boss.sync().await.unwrap().received, 5);
    let dir = s.stop().await;

    let url = pg::cluster().database();
    let out =
        cli(&["admin", "--data", dir.path().to_str().unwrap(), "--json", "migrate", "--to", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts["documents"], 5);
    assert_eq!(counts["devices"], 2);
    let again = cli(&["admin", "--data", dir.path().to_str().unwrap(), "migrate", "--to", &url]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty one"));

    let s = Server::start_on(Db::Postgres(url), tempfile::tempdir().unwrap(), |k| k).await;
    kim.set_server(&s.url);
    boss.set_server(&s.url);
    let new = kim.owned("on postgres", "kim");
    assert_eq!(kim.sync().await.unwrap().sent, 1, "kim's token still works");
    let summary = boss.sync().await.unwrap();
    assert_eq!(summary.received, 1, "the manager's cursor went on from where it stood");
    assert_eq!(boss.lead(&new.id).unwrap(), kim.lead(&new.id).unwrap());
    let refs = [&kim, &boss];
    assert_converged(&refs, &s);
}
