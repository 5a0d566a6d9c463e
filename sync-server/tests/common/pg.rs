#![allow(dead_code)]
//! A real PostgreSQL server for the tests and the sync bench: `initdb` and `pg_ctl` on a
//! temporary directory, listening on a free loopback port, one cluster per test process (each
//! test gets a database of its own), stopped when the process ends.
//!
//! The binaries are found in `FIELDSALES_PG_BIN`, else Debian's `/usr/lib/postgresql/<v>/bin`
//! (the newest), else on `PATH`. `initdb` refuses to run as root: as root the cluster runs as the
//! `postgres` user (Debian's package creates it). A watchdog shell stops the cluster and removes
//! its directory once this process has gone, however it ended.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Cluster {
    pub port: u16,
    pub dir: PathBuf,
    bin: PathBuf,
    user: Option<String>,
    next_db: AtomicUsize,
}

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("FIELDSALES_PG_BIN") {
        return dir.into();
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, p): &(u32, PathBuf)| p.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some((_, p)) = versions.pop() {
        return p;
    }
    let found = Command::new("sh").args(["-c", "command -v initdb"]).output().ok();
    let path = found.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match path.filter(|p| !p.is_empty()) {
        Some(p) => Path::new(&p).parent().unwrap().to_path_buf(),
        None => panic!(
            "PostgreSQL is not installed: the tests need initdb and pg_ctl (Debian: apt-get install postgresql; or set FIELDSALES_PG_BIN)"
        ),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Cluster {
    /// Runs a PostgreSQL binary as the cluster's user.
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(program);
        let mut cmd = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).output().unwrap_or_else(|e| panic!("{}: {e}", exe.display()));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// A new cluster. `durable`: fsync on (the bench); off for tests, which kill server
    /// instances, never PostgreSQL itself.
    pub fn start(durable: bool) -> Cluster {
        let bin = bin_dir();
        let user = is_root().then(|| "postgres".to_string());
        let dir = tempfile::Builder::new().prefix("fieldsales-pg-").tempdir().unwrap().keep();
        if let Some(u) = &user {
            let ok = Command::new("chown").arg(format!("{u}:")).arg(&dir).status().unwrap();
            assert!(ok.success(), "chown {u} {}", dir.display());
        }
        let mut c = Cluster { port: free_port(), dir, bin, user, next_db: AtomicUsize::new(0) };
        let data = c.dir.join("data");
        let data = data.to_str().unwrap();
        c.run(
            "initdb",
            &[
                "-D",
                data,
                "-U",
                "fieldsales",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ],
        );
        let mut opts = format!(
            "-c listen_addresses=127.0.0.1 -c max_connections=500 -k {} -c shared_buffers=128MB",
            c.dir.display()
        );
        if !durable {
            opts.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = c.dir.join("log");
        for attempt in 0..5 {
            let o = format!("-p {} {opts}", c.port);
            let exe = c.bin.join("pg_ctl");
            let mut cmd = match &c.user {
                Some(u) => {
                    let mut cmd = Command::new("runuser");
                    cmd.args(["-u", u, "--"]).arg(&exe);
                    cmd
                }
                None => Command::new(&exe),
            };
            let ok = cmd
                .args(["-D", data, "-o", &o, "-l", log.to_str().unwrap(), "-w", "start"])
                .output()
                .unwrap();
            if ok.status.success() {
                break;
            }
            assert!(
                attempt < 4,
                "pg_ctl start failed: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            c.port = free_port();
        }
        // The watchdog: stops the cluster once this process is gone.
        let pg_ctl = c.bin.join("pg_ctl");
        let stop = match &c.user {
            Some(u) => {
                format!("runuser -u {u} -- {} -D {data} -m immediate stop", pg_ctl.display())
            }
            None => format!("{} -D {data} -m immediate stop", pg_ctl.display()),
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            dir = c.dir.display()
        );
        // `setsid -f` forks the watchdog off and returns at once: it outlives this process.
        let started = Command::new("setsid")
            .args(["-f", "sh", "-c", &script])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .expect("the watchdog that stops PostgreSQL");
        assert!(started.success(), "the watchdog did not start");
        c
    }

    /// The URL of database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://fieldsales@127.0.0.1:{}/{db}", self.port)
    }

    /// A new empty database; its URL.
    pub fn database(&self) -> String {
        let name =
            format!("t{}_{}", std::process::id(), self.next_db.fetch_add(1, Ordering::Relaxed));
        self.sql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    /// Runs `sql` on database `db` through a client of its own (any thread, any runtime).
    pub fn sql(&self, db: &str, sql: &str) {
        let url = self.url(db);
        let sql = sql.to_string();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap_or_else(|e| panic!("{url}: {e}"));
                let driver = tokio::spawn(conn);
                client.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                drop(client);
                let _ = driver.await;
            })
        })
        .join()
        .unwrap();
    }

    /// Rows of `sql` on the database at `url`, each row's columns as text joined by spaces
    /// (NULL as `-`).
    pub fn rows(url: &str, sql: &str) -> Vec<String> {
        let (url, sql) = (url.to_string(), sql.to_string());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let (client, conn) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
                let driver = tokio::spawn(conn);
                let rows = client.simple_query(&sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
                drop(client);
                let _ = driver.await;
                rows.into_iter()
                    .filter_map(|m| match m {
                        tokio_postgres::SimpleQueryMessage::Row(r) => Some(
                            (0..r.len())
                                .map(|i| r.get(i).unwrap_or("-").to_string())
                                .collect::<Vec<_>>()
                                .join(" "),
                        ),
                        _ => None,
                    })
                    .collect()
            })
        })
        .join()
        .unwrap()
    }

    /// A binary of the cluster's PostgreSQL (pg_dump, pg_restore, psql), run as its user.
    pub fn tool(&self, program: &str, args: &[&str]) -> std::process::Output {
        self.run(program, args)
    }
}

/// The cluster of this test process, started on first use.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(|| Cluster::start(false))
}
