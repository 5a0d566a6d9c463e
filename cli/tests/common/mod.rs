#![allow(dead_code)]
//! Helpers shared by the CLI's end-to-end tests: the built binary against a store in a
//! temporary directory, and a real sync server in this process.

use std::path::PathBuf;
use std::process::{Command, Output};

pub use fieldsales_server::admin::AdminStore;
use serde_json::Value;

pub struct Fs {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Fs {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("leads.db");
        Fs { dir, db }
    }

    /// The binary with only `--db`; FIELDSALES_* variables of the test environment removed.
    pub fn bare(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_fieldsales"))
            .env_remove("FIELDSALES_DB")
            .env_remove("FIELDSALES_USER")
            .env_remove("FIELDSALES_REGION")
            // UTC unless a test names a zone: output must not depend on the machine's zone.
            .env("FIELDSALES_TZ", "UTC")
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .output()
            .expect("run fieldsales")
    }

    /// As user kim.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["--user", "kim"];
        all.extend_from_slice(args);
        self.bare(&all)
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Runs a command that must fail with `code`, print nothing on stdout and say why on stderr.
    pub fn fail(&self, out: Output, code: i32) -> String {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
        assert!(out.stdout.is_empty(), "stdout: {}", String::from_utf8_lossy(&out.stdout));
        assert!(stderr.starts_with("error: "), "{stderr}");
        stderr
    }

    /// `lead add`; returns the id from the first line of the text output.
    pub fn add(&self, args: &[&str]) -> String {
        let mut all = vec!["lead", "add"];
        all.extend_from_slice(args);
        let out = self.ok(&all);
        let id = out.lines().next().unwrap_or("").to_string();
        assert_eq!(id.len(), 36, "first line is not an id: {out}");
        id
    }

    pub fn ids(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["lead", "list"];
        all.extend_from_slice(args);
        let page = self.json(&all);
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|l| l["id"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

/// A real sync server in this process (the library behind `fieldsales-server`), on 127.0.0.1.
pub fn start_server(
    dir: &std::path::Path,
) -> (String, fieldsales_server::sqlite::SqliteBackend, tokio::runtime::Runtime) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let backend = fieldsales_server::sqlite::SqliteBackend::open(dir).unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(fieldsales_server::serve(
        listener,
        fieldsales_server::AppState::new(backend),
        std::future::pending(),
    ));
    (url, fieldsales_server::sqlite::SqliteBackend::open(dir).unwrap(), rt)
}

/// A real server with workspace "acme", team "t", rep kim and her manager boss; their
/// enrollment codes.
pub struct Acme {
    pub url: String,
    pub admin: fieldsales_server::sqlite::SqliteBackend,
    pub rt: tokio::runtime::Runtime,
    pub kim_code: String,
    pub boss_code: String,
    _dir: tempfile::TempDir,
}

pub fn acme() -> Acme {
    use fieldsales_server::backend::Role;
    let dir = tempfile::tempdir().unwrap();
    let (url, admin, rt) = start_server(dir.path());
    let ws = admin.create_workspace("acme").unwrap().id;
    admin.create_team(&ws, "t").unwrap();
    let kim = admin.add_user(&ws, "kim", Role::Rep, Some("t")).unwrap();
    let boss = admin.add_user(&ws, "boss", Role::Manager, Some("t")).unwrap();
    Acme {
        url,
        admin,
        rt,
        kim_code: kim.enrollment_code,
        boss_code: boss.enrollment_code,
        _dir: dir,
    }
}
