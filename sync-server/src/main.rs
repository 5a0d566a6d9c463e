//! `fieldsales-server`: serve the sync API, or administer the data directory.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};
use fieldsales_server::admin::printable;
use fieldsales_server::backend::{Backend, Role};
use fieldsales_server::database::{AdminStore, Database};
use fieldsales_server::postgres::PgBackend;
use fieldsales_server::sqlite::SqliteBackend;
use fieldsales_server::{AppState, serve};

/// See the workspace Cargo.toml: glibc's malloc was a quarter of the server's CPU under load.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "fieldsales-server", version, about = "The Fieldsales sync server")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the sync API on the embedded SQLite store in DIR, or on PostgreSQL
    Serve {
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// A PostgreSQL database instead of the embedded store: postgres://user@host/db
        /// (several instances may serve one database)
        #[arg(long, value_name = "URL", env = "FIELDSALES_DATABASE")]
        database: Option<String>,
        /// PostgreSQL connections this instance keeps at most
        #[arg(long, default_value_t = fieldsales_server::postgres::DEFAULT_POOL)]
        pool: usize,
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        /// Recently pushed documents kept loaded in memory (about 20 KB each); 0 for none
        #[arg(long, default_value_t = fieldsales_server::docs::DEFAULT_CAPACITY)]
        doc_cache: usize,
        /// The most memory those documents may take, in MiB
        #[arg(long, default_value_t = fieldsales_server::docs::DEFAULT_BYTES >> 20)]
        doc_cache_mb: usize,
        /// Serve https with this PEM certificate chain (with --tls-key)
        #[arg(long, value_name = "FILE", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The PEM private key of --tls-cert
        #[arg(long, value_name = "FILE", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Lets GET /metrics answer non-loopback addresses that send it as a bearer token
        #[arg(long, value_name = "TOKEN", env = "FIELDSALES_METRICS_TOKEN")]
        metrics_token: Option<String>,
        /// Connections one client address may hold open (raise it behind a load balancer
        /// that does not pass client addresses: live streams keep one per online device)
        #[arg(long, default_value_t = fieldsales_server::NetLimits::default().per_address)]
        connections_per_address: usize,
        /// Log lines as JSON objects (one per line) instead of text
        #[arg(long, value_parser = ["text", "json"], default_value = "text", env = "FIELDSALES_LOG_FORMAT")]
        log_format: String,
    },
    /// Workspaces, teams, users and devices (works while the server runs)
    Admin {
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// A PostgreSQL database instead of the embedded store
        #[arg(long, value_name = "URL", env = "FIELDSALES_DATABASE")]
        database: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        cmd: AdminCmd,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    #[command(subcommand)]
    Workspace(WorkspaceCmd),
    #[command(subcommand)]
    Team(TeamCmd),
    #[command(subcommand)]
    User(UserCmd),
    #[command(subcommand)]
    Device(DeviceCmd),
    /// An online, consistent copy of the embedded store (while the server runs); on PostgreSQL
    /// use pg_dump or pg_basebackup
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Move the embedded store in --data into an empty PostgreSQL database: devices keep their
    /// tokens and cursors (stop the server first)
    Migrate {
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Addresses with failed enrollment attempts, and those locked out (429 to enrollment)
    Lockouts {
        /// Lift this address's lockout and forget its failures
        #[arg(long, value_name = "ADDRESS")]
        clear: Option<String>,
    },
}

#[derive(Subcommand)]
enum WorkspaceCmd {
    Create { name: String },
    List,
}

#[derive(Subcommand)]
enum TeamCmd {
    Create {
        #[arg(long)]
        workspace: String,
        name: String,
    },
    /// Let a manager manage one more team (they see and edit its members' leads)
    Manage {
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        team: String,
        /// The manager's user id
        manager: String,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user and print a one-time enrollment code for their first device
    Add {
        #[arg(long)]
        workspace: String,
        #[arg(long, value_parser = ["rep", "manager", "admin"])]
        role: String,
        #[arg(long)]
        team: Option<String>,
        /// The user id, shown as the owner of their leads
        id: String,
    },
    /// A new one-time enrollment code for another device of a user
    Code {
        #[arg(long)]
        workspace: String,
        id: String,
    },
}

#[derive(Subcommand)]
enum DeviceCmd {
    List {
        #[arg(long)]
        workspace: String,
    },
    /// Cut one device off; the user's other devices keep working
    Revoke { id: String },
}

fn print<T: serde::Serialize>(json: bool, v: &T, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(v)?);
    } else {
        println!("{}", text());
    }
    Ok(())
}

/// Log lines go to stderr, as text or as JSON objects; `RUST_LOG` filters them (default
/// `info`). Each request's lines carry its id (`metrics.rs`).
fn init_logging(json: bool) {
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
    };
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false);
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .try_init()
    } else {
        builder.with_env_filter(filter()).try_init()
    };
}

struct ServeOptions {
    listen: String,
    doc_cache: usize,
    doc_cache_mb: usize,
    tls: Option<tokio_rustls::TlsAcceptor>,
    metrics_token: Option<String>,
    connections_per_address: usize,
}

/// Resolves on Ctrl-C or SIGTERM (what service managers and orchestrators send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing the requests under way");
}

async fn run<B: Backend>(backend: B, o: ServeOptions) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(&o.listen).await?;
    let scheme = if o.tls.is_some() { "https" } else { "http" };
    println!("fieldsales-server listening on {scheme}://{}", listener.local_addr()?);
    let mut state = AppState::with_doc_cache_bytes(backend, o.doc_cache, o.doc_cache_mb << 20);
    state.tls = o.tls;
    state.metrics_token = o.metrics_token;
    state.net.per_address = o.connections_per_address.max(1);
    serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve {
            data,
            database,
            pool,
            listen,
            doc_cache,
            doc_cache_mb,
            tls_cert,
            tls_key,
            metrics_token,
            connections_per_address,
            log_format,
        } => {
            init_logging(log_format == "json");
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(fieldsales_server::tls::acceptor(&cert, &key)?),
                _ => None,
            };
            let opts = ServeOptions {
                listen,
                doc_cache,
                doc_cache_mb,
                tls,
                metrics_token,
                connections_per_address,
            };
            match Database::choose(data, database)? {
                Database::Sqlite(dir) => run(SqliteBackend::open(&dir)?, opts).await?,
                Database::Postgres(url) => {
                    run(PgBackend::connect_with(&url, pool).await?, opts).await?
                }
            }
        }
        Cmd::Admin { data, database, json, cmd } => {
            init_logging(false);
            let db = Database::choose(data, database)?;
            let Database::Sqlite(dir) = &db else {
                if matches!(cmd, AdminCmd::Backup { .. } | AdminCmd::Migrate { .. }) {
                    anyhow::bail!(
                        "backup and migrate read an embedded store (--data DIR); back PostgreSQL up with pg_dump or pg_basebackup"
                    );
                }
                return admin(db.admin().await?, json, cmd);
            };
            match &cmd {
                AdminCmd::Backup { to } => {
                    let bytes = fieldsales_server::backup::backup(&SqliteBackend::open(dir)?, to)?;
                    return print(
                        json,
                        &serde_json::json!({ "backup": to, "bytes": bytes }),
                        || format!("backup written to {} ({bytes} bytes)", to.display()),
                    );
                }
                AdminCmd::Migrate { to } => {
                    let from = SqliteBackend::open(dir)?;
                    let pg = PgBackend::open_quiet(to, 2).await?;
                    let counts = pg.import_sqlite(&from)?;
                    return print(json, &counts, || {
                        let rows: Vec<String> =
                            counts.iter().map(|(t, n)| format!("{t}: {n}")).collect();
                        format!("migrated into PostgreSQL: {}", rows.join(", "))
                    });
                }
                _ => {}
            }
            admin(db.admin().await?, json, cmd)?;
        }
    }
    Ok(())
}

fn admin(b: Box<dyn AdminStore>, json: bool, cmd: AdminCmd) -> Result<()> {
    match cmd {
        AdminCmd::Workspace(WorkspaceCmd::Create { name }) => {
            let w = b.create_workspace(&name)?;
            print(json, &w, || format!("workspace {} ({})", w.name, w.id))?;
        }
        AdminCmd::Workspace(WorkspaceCmd::List) => {
            let all = b.list_workspaces()?;
            print(json, &all, || {
                all.iter().map(|w| format!("{}  {}", w.id, w.name)).collect::<Vec<_>>().join("\n")
            })?;
        }
        AdminCmd::Team(TeamCmd::Create { workspace, name }) => {
            let id = b.create_team(&workspace, &name)?;
            print(json, &serde_json::json!({ "id": id, "name": name }), || {
                format!("team {name} ({id})")
            })?;
        }
        AdminCmd::Team(TeamCmd::Manage { workspace, team, manager }) => {
            b.manage_team(&workspace, &team, &manager)?;
            let teams = b.managed_teams(&workspace, &manager)?;
            print(json, &serde_json::json!({ "manager": manager, "teams": teams }), || {
                format!("{manager} manages {}", teams.join(", "))
            })?;
        }
        AdminCmd::User(UserCmd::Add { workspace, role, team, id }) => {
            let role = Role::parse(&role).unwrap_or(Role::Rep);
            let u = b.add_user(&workspace, &id, role, team.as_deref())?;
            print(json, &u, || {
                format!(
                    "user {} ({}) added\nenrollment code: {}",
                    u.user_id,
                    u.role.as_str(),
                    u.enrollment_code
                )
            })?;
        }
        AdminCmd::User(UserCmd::Code { workspace, id }) => {
            let code = b.enrollment_code(&workspace, &id)?;
            print(json, &serde_json::json!({ "enrollment_code": code }), || {
                format!("enrollment code: {code}")
            })?;
        }
        AdminCmd::Device(DeviceCmd::List { workspace }) => {
            let all = b.list_devices(&workspace)?;
            print(json, &all, || {
                all.iter()
                    .map(|d| {
                        format!(
                            "{}  {:<16} {:<20} {}",
                            d.id,
                            d.user_id,
                            printable(&d.name),
                            if d.revoked { "revoked" } else { "active" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        AdminCmd::Lockouts { clear: Some(address) } => {
            b.clear_lockout(&address)?;
            print(json, &serde_json::json!({ "cleared": address }), || {
                format!("lockout of {} cleared", printable(&address))
            })?;
        }
        AdminCmd::Lockouts { clear: None } => {
            let all = b.lockouts()?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            print(json, &all, || {
                all.iter()
                    .map(|l| {
                        let state = match l.locked_until {
                            Some(t) if t > now => {
                                format!("locked for {} s", (t - now + 999) / 1000)
                            }
                            _ => "not locked".to_string(),
                        };
                        format!("{:<40} {:>4} failed  {state}", printable(&l.address), l.failures)
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        AdminCmd::Device(DeviceCmd::Revoke { id }) => {
            b.revoke_device(&id)?;
            print(json, &serde_json::json!({ "revoked": id }), || format!("device {id} revoked"))?;
        }
        AdminCmd::Backup { .. } | AdminCmd::Migrate { .. } => {}
    }
    Ok(())
}
