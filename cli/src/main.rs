//! `fieldsales`: the command-line client of the field-sales core. Argument parsing and printing
//! only; every rule about leads and activities lives in `fieldsales-core`.
//!
//! Exit codes: 0 success, 1 an error the user can act on (validation, not found, wrong user,
//! storage), 2 a usage error (clap's default).

mod demo;
mod import_cmd;
mod key_cmd;
mod print;
mod quarantine_cmd;
mod report_cmd;
mod sales_cmd;
mod sync_cmd;
mod time;

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use fieldsales_core::store::Clock;
use fieldsales_core::{
    ActivityDraft, ActivityKind, CaptureChannel, CustomField, LeadDraft, LeadField, LeadPatch,
    LeadQuery, LeadSort, Location, OpenOptions, Potential, Stage, Store,
};
use fieldsales_core::{Zone, calendar, validate};

/// Where the options that every command takes are listed in `--help`.
const GLOBAL: &str = "Global options";

#[derive(Parser)]
#[command(
    name = "fieldsales",
    version,
    about = "Leads and activities of one sales rep, stored offline on this device",
    after_help = "FIELDSALES_NOW sets the clock for scripts and tests: a time \
                  (2026-11-30T22:00:00Z) or the system clock off by a duration (+3h, -90m). \
                  Once synced, times written are corrected by the offset to the server's clock."
)]
struct Cli {
    /// The store file; created by the first `lead add`
    #[arg(long, env = "FIELDSALES_DB", global = true, help_heading = GLOBAL, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Whose store this is; defaults to the user an existing store belongs to
    #[arg(long, env = "FIELDSALES_USER", global = true, help_heading = GLOBAL)]
    user: Option<String>,
    /// Region (ISO 3166) for phone numbers typed without a country code
    #[arg(long, env = "FIELDSALES_REGION", global = true, help_heading = GLOBAL, default_value = "KR")]
    region: String,
    /// Time zone for showing times, reading dates typed without a zone and "today", "this
    /// month": an IANA name (Asia/Seoul, America/New_York) or an offset (+09:00); defaults to
    /// this machine's zone
    #[arg(long, env = "FIELDSALES_TZ", global = true, help_heading = GLOBAL, value_name = "ZONE",
          value_parser = parse_zone, default_value_t = Zone::system(), allow_hyphen_values = true)]
    tz: Zone,
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true, help_heading = GLOBAL)]
    json: bool,
    /// The store is encrypted with the key in this file (64 hex digits, readable by you only;
    /// `fieldsales key new` makes one); a new store is created encrypted
    #[arg(long, env = "FIELDSALES_KEY_FILE", global = true, help_heading = GLOBAL, value_name = "PATH")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once per run, so the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Capture, edit and browse leads
    #[command(subcommand)]
    Lead(LeadCmd),
    /// Calls, meetings, visits, e-mails, notes and tasks on a lead
    #[command(subcommand)]
    Activity(ActivityCmd),
    /// Full-text search; every word matches as a prefix ("acm" finds "Acme")
    Search {
        #[arg(required = true, value_name = "TEXT")]
        text: Vec<String>,
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: Option<u32>,
    },
    /// Follow-ups and open tasks that are overdue or due today
    Followups {
        /// Whose leads to look at; defaults to the store's user
        #[arg(long)]
        owner: Option<String>,
    },
    /// Write leads (all, or those a period or filter selects) with their activities as JSON or CSV
    Export {
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        #[arg(long)]
        include_deleted: bool,
        /// Write to this file instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Only leads created this week, month or quarter (in the --tz zone)
        #[arg(long, conflicts_with_all = ["from", "to"])]
        period: Option<String>,
        /// Only leads created at or after this time
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        from: Option<String>,
        /// Only leads created before this time (2026-12-01: up to the end of November)
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        to: Option<String>,
        /// Only leads changed at or after this time
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        updated_since: Option<String>,
        /// Only these owners (repeatable)
        #[arg(long)]
        owner: Vec<String>,
        /// Only these stages (repeatable)
        #[arg(long = "stage", value_name = "STAGE", value_parser = one_of(Stage::ALL, Stage::as_str, Stage::parse))]
        stages: Vec<Stage>,
        #[arg(long)]
        tag: Option<String>,
        #[arg(long)]
        event: Option<String>,
    },
    /// Import leads from a CSV file (other CRMs' and address books' exports, or this app's);
    /// prints the column mapping and each row's errors, and exits 1 when a row failed
    Import {
        /// The CSV file (UTF-8 or UTF-16; `,`, `;` or tab separated)
        file: PathBuf,
        /// Check every row and report; write nothing
        #[arg(long)]
        dry_run: bool,
        /// Read a column as a field (repeatable): "Header=field"; fields: name, first_name,
        /// last_name, company, title, email, phone, event, channel, source, stage, lost_reason,
        /// potential, amount, amount_minor, currency, owner, tags, notes, next_follow_up, id,
        /// custom (named after the header), custom.KEY, ignore
        #[arg(long = "map", value_name = "HEADER=FIELD")]
        map: Vec<String>,
        /// Do not read this column (repeatable)
        #[arg(long = "ignore", value_name = "HEADER")]
        ignore: Vec<String>,
        /// ISO 4217 code of amounts whose row names no currency
        #[arg(long, value_name = "CODE")]
        currency: Option<String>,
        /// Import the valid rows even when some rows have errors (default: a bad row imports nothing)
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Check that lists and search agree with the stored documents; exits 1 on problems
    Verify,
    /// Fold stored change logs into snapshots and reclaim space
    Compact,
    /// A manager and three reps capture offline and sync through an in-process server (needs no --db)
    Demo,
    /// Encryption keys for stores encrypted at rest (needs no --db)
    #[command(subcommand)]
    Key(KeyCmd),
    /// Exchange a one-time code from your admin for this device's sync credentials
    Enroll {
        /// The sync server, e.g. http://127.0.0.1:8787
        #[arg(long)]
        server: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "fieldsales cli")]
        device_name: String,
    },
    /// Send this device's changes and receive everyone else's
    Sync,
    /// Leads that look like the same person (same e-mail, phone, or name at a company)
    Duplicates,
    /// Win rate, sales cycle, funnel, response time, pipeline, activities and events, per rep and team
    Report {
        #[command(flatten)]
        period: PeriodArgs,
        /// Only these owners (repeatable); default: every lead on this device
        #[arg(long)]
        owner: Vec<String>,
        /// Days without activity after which an open lead is "going cold"
        #[arg(long, default_value_t = 14)]
        cold_days: u32,
        /// Print CSV (one row for the team, one per rep)
        #[arg(long)]
        csv: bool,
    },
    /// Changes the server refused, kept aside so nothing is lost
    #[command(subcommand)]
    Quarantine(QuarantineCmd),
    /// The workspace's sales process: stage names, win probabilities, required fields
    #[command(subcommand)]
    Stages(StagesCmd),
    /// Targets and quotas of reps and teams (managers and admins set them)
    #[command(subcommand)]
    Target(TargetCmd),
    /// Compensation plans: base pay and commission with accelerators above quota
    #[command(subcommand)]
    Plan(PlanCmd),
}

#[derive(Subcommand)]
enum StagesCmd {
    /// Every stage with its name, win probability and required fields
    Show,
    /// Change one stage (managers and admins); fields not named stay as they are
    Set {
        #[arg(value_parser = one_of(Stage::ALL, Stage::as_str, Stage::parse))]
        stage: Stage,
        /// The name reports and screens show
        #[arg(long)]
        name: Option<String>,
        /// Win probability in percent (0-100, e.g. 60 or 12.5)
        #[arg(long, value_name = "PCT")]
        probability: Option<String>,
        /// A field a lead needs to be in this stage (repeatable; replaces the current list)
        #[arg(long = "require", value_name = "FIELD", value_parser = one_of(fieldsales_core::RequiredField::ALL, fieldsales_core::RequiredField::as_str, fieldsales_core::RequiredField::parse))]
        require: Vec<fieldsales_core::RequiredField>,
        /// Require nothing in this stage
        #[arg(long, conflicts_with = "require")]
        require_nothing: bool,
    },
}

#[derive(Subcommand)]
enum TargetCmd {
    /// Set a rep's or a team's target for a period (replaces the value of the same target)
    Set {
        #[arg(long, required_unless_present = "team", conflicts_with = "team")]
        rep: Option<String>,
        /// A team's id or name, as the sync server knows it
        #[arg(long)]
        team: Option<String>,
        #[arg(long, value_parser = one_of(fieldsales_core::TargetMetric::ALL, fieldsales_core::TargetMetric::as_str, fieldsales_core::TargetMetric::parse))]
        metric: fieldsales_core::TargetMetric,
        #[command(flatten)]
        period: PeriodArgs,
        /// A count, or an amount in units of --currency for won_value
        #[arg(long)]
        value: String,
        /// ISO 4217 code (won_value only)
        #[arg(long, value_name = "CODE")]
        currency: Option<String>,
    },
    /// Targets whose period overlaps the given one
    List {
        #[command(flatten)]
        period: PeriodArgs,
    },
    /// Move a target to the bin
    Delete { id: String },
}

#[derive(Subcommand)]
enum PlanCmd {
    /// Set a rep's plan: base pay, commission rate, and rates above a share of quota
    Set {
        rep: String,
        /// Base pay per period, in units of --currency
        #[arg(long, value_name = "AMOUNT")]
        base: String,
        #[arg(long, value_name = "CODE")]
        currency: String,
        /// Commission on won value, in percent
        #[arg(long, value_name = "PCT")]
        rate: String,
        /// From PCT_OF_QUOTA on, commission RATE percent (repeatable): --tier 100:15
        #[arg(long = "tier", value_name = "PCT_OF_QUOTA:RATE")]
        tiers: Vec<String>,
    },
    /// The plans on this device (a rep's device holds only the rep's own)
    Show { rep: Option<String> },
}

#[derive(Subcommand)]
enum KeyCmd {
    /// Write a new random key to FILE (created readable by you only; never overwrites)
    New { file: PathBuf },
}

#[derive(Subcommand)]
enum QuarantineCmd {
    /// What was kept aside: one line per refused change
    List,
    /// One entry: the record, the fields and values refused (old → new), why, what to do
    Show { id: i64 },
    /// Re-apply an entry where you may: as a new change on the record as it is now, or, for a
    /// record no longer on this device, sent again as it was at the next sync
    Apply { id: i64 },
    /// Drop an entry for good
    Discard { id: i64 },
    /// Everything kept aside as JSON, with the raw changes
    Export {
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum LeadCmd {
    /// Capture a new lead (needs a name, company, e-mail or phone)
    Add {
        #[command(flatten)]
        fields: LeadFields,
        /// A tag (repeat for several)
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
    },
    /// Change some fields of a lead; fields not named are left as they are
    Edit {
        id: String,
        #[command(flatten)]
        fields: LeadFields,
        #[arg(long = "add-tag", visible_alias = "tag", value_name = "TAG")]
        add_tags: Vec<String>,
        #[arg(long = "remove-tag", value_name = "TAG")]
        remove_tags: Vec<String>,
        #[arg(long = "remove-custom", value_name = "KEY")]
        remove_custom: Vec<String>,
        /// Empty a field
        #[arg(long, value_name = "FIELD", value_parser = clear_parser())]
        clear: Vec<Clear>,
    },
    /// A lead with its activity timeline and any conflicting edits
    Show { id: String },
    /// List leads, newest change first
    List(ListArgs),
    /// Move a lead to the bin (it can be restored)
    Delete { id: String },
    /// Bring a lead back from the bin
    Restore { id: String },
    /// Fold OTHER into KEEP: fields, tags, notes and activities; OTHER goes to the bin, intact
    Merge { keep: String, other: String },
}

/// The period of `report` and `target`: this week, month or quarter, or --from/--to.
#[derive(Args)]
struct PeriodArgs {
    /// week, month or quarter holding today (in the --tz zone), ignored with --from/--to
    #[arg(long, default_value = "month")]
    period: String,
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
}

impl PeriodArgs {
    fn resolve(&self, now: i64, tz: &Zone) -> Result<fieldsales_core::report::Period> {
        report_cmd::period(
            &self.period,
            when("--from", self.from.as_deref(), now, tz)?,
            when("--to", self.to.as_deref(), now, tz)?,
            now,
            tz,
        )
    }
}

/// Fields shared by `lead add` and `lead edit`.
#[derive(Args)]
struct LeadFields {
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    company: Option<String>,
    /// Job title
    #[arg(long)]
    title: Option<String>,
    /// E-mail address (repeat for several; on edit, replaces all of them)
    #[arg(long = "email", value_name = "ADDRESS")]
    emails: Vec<String>,
    /// Phone number, national or +international (repeat for several; on edit, replaces all)
    #[arg(long = "phone", value_name = "NUMBER")]
    phones: Vec<String>,
    /// Where the lead was met (trade show, event)
    #[arg(long)]
    event: Option<String>,
    #[arg(long, value_parser = one_of(CaptureChannel::ALL, CaptureChannel::as_str, CaptureChannel::parse))]
    channel: Option<CaptureChannel>,
    #[arg(long, value_parser = one_of(Stage::ALL, Stage::as_str, Stage::parse))]
    stage: Option<Stage>,
    /// Why the deal was lost (only with --stage lost)
    #[arg(long)]
    lost_reason: Option<String>,
    #[arg(long, value_parser = one_of(Potential::ALL, Potential::as_str, Potential::parse))]
    potential: Option<Potential>,
    /// Deal value in units of --currency: 1500000 (KRW), 1500.50 (USD)
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    value: Option<String>,
    /// ISO 4217 code of --value (KRW, USD, EUR…)
    #[arg(long, value_name = "CODE")]
    currency: Option<String>,
    /// Who works the lead; defaults to the store's user
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    notes: Option<String>,
    /// A custom field (repeat for several)
    #[arg(long = "custom", value_name = "KEY=VALUE", value_parser = parse_custom)]
    custom: Vec<CustomField>,
    /// When to follow up: 2026-11-28T15:00+09:00, 2026-11-28, +3d, now
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    follow_up: Option<String>,
}

#[derive(Args)]
struct ListArgs {
    /// Only these stages (repeatable)
    #[arg(long = "stage", value_name = "STAGE", value_parser = one_of(Stage::ALL, Stage::as_str, Stage::parse))]
    stages: Vec<Stage>,
    #[arg(long, value_parser = one_of(Potential::ALL, Potential::as_str, Potential::parse))]
    potential: Option<Potential>,
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    tag: Option<String>,
    #[arg(long)]
    event: Option<String>,
    /// Only leads whose next follow-up is at or before this time
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    due_before: Option<String>,
    /// Only leads changed at or after this time
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    updated_since: Option<String>,
    /// List the bin (deleted leads) instead
    #[arg(long)]
    deleted: bool,
    #[arg(long, default_value = "updated",
          value_parser = PossibleValuesParser::new(["updated", "created", "name", "value"]).try_map(|s| LeadSort::parse(&s)))]
    sort: LeadSort,
    /// Oldest, smallest or A first
    #[arg(long, conflicts_with = "desc")]
    asc: bool,
    /// Newest, largest or Z first
    #[arg(long)]
    desc: bool,
    /// Rows per page (1-500, default 50)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    limit: Option<u32>,
    /// The `next` cursor printed by the previous page
    #[arg(long, value_name = "CURSOR")]
    after: Option<String>,
}

#[derive(Subcommand)]
enum ActivityCmd {
    /// Log an activity on a lead, or plan a task with --due
    Add {
        lead_id: String,
        #[arg(long, value_parser = one_of(ActivityKind::ALL, ActivityKind::as_str, ActivityKind::parse))]
        kind: ActivityKind,
        #[arg(long)]
        subject: String,
        #[arg(long)]
        notes: Option<String>,
        /// When it happened (default now, except for tasks)
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        at: Option<String>,
        /// When it is due
        #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
        due: Option<String>,
        /// How long it took: 300s, 5m, 1h30m
        #[arg(long, value_name = "DURATION")]
        duration: Option<String>,
        #[arg(long)]
        outcome: Option<String>,
        /// Latitude of a visit, in degrees
        #[arg(long, requires = "lon", allow_negative_numbers = true)]
        lat: Option<f64>,
        /// Longitude of a visit, in degrees
        #[arg(long, requires = "lat", allow_negative_numbers = true)]
        lon: Option<f64>,
        /// Accuracy of --lat/--lon, in metres
        #[arg(long, requires = "lat", value_name = "METRES")]
        accuracy: Option<f64>,
    },
    /// A lead's activities, newest first
    List { lead_id: String },
    /// Mark an activity (typically a task) done
    Done { id: String },
}

/// What `--clear` accepts: the core's clearable fields, plus the contact lists, which a patch
/// empties by setting them to an empty list.
#[derive(Clone, Copy)]
enum Clear {
    Field(LeadField),
    Emails,
    Phones,
}

fn clear_parser() -> impl TypedValueParser<Value = Clear> {
    const NAMES: [&str; 9] = [
        "name",
        "company",
        "title",
        "event",
        "potential",
        "deal_value",
        "next_follow_up",
        "email",
        "phone",
    ];
    PossibleValuesParser::new(NAMES).map(|s| match s.as_str() {
        "name" => Clear::Field(LeadField::Name),
        "company" => Clear::Field(LeadField::Company),
        "title" => Clear::Field(LeadField::Title),
        "event" => Clear::Field(LeadField::Event),
        "potential" => Clear::Field(LeadField::Potential),
        "deal_value" => Clear::Field(LeadField::DealValue),
        "next_follow_up" => Clear::Field(LeadField::NextFollowUp),
        "email" => Clear::Emails,
        _ => Clear::Phones,
    })
}

/// A clap parser over one of the core's string enums: the core's own lenient spelling
/// ("badge-scan", "Won"), with the values listed in `--help` and clap's usual error otherwise.
#[derive(Clone)]
struct CoreEnum<T: 'static> {
    all: &'static [T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Result<T, fieldsales_core::ValidationError>,
}

fn one_of<T: Copy>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Result<T, fieldsales_core::ValidationError>,
) -> CoreEnum<T> {
    CoreEnum { all, name, parse }
}

impl<T: Copy + Send + Sync + 'static> TypedValueParser for CoreEnum<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        if let Some(v) = value.to_str().and_then(|s| (self.parse)(s).ok()) {
            return Ok(v);
        }
        let strict = PossibleValuesParser::new(self.all.iter().map(|v| (self.name)(*v)));
        strict.parse_ref(cmd, arg, value)?;
        Err(clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(self.all.iter().map(|v| clap::builder::PossibleValue::new((self.name)(*v)))))
    }
}

fn parse_custom(s: &str) -> Result<CustomField, String> {
    match s.split_once('=') {
        Some((k, v)) => Ok(CustomField { key: k.to_string(), value: v.to_string() }),
        None => Err(format!("'{s}' is not KEY=VALUE")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(cli.cmd, Cmd::Demo) {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        return match demo::run(&mut out, &cli.tz).and_then(|()| Ok(out.flush()?)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(io::stderr(), "error: {}", message(&e));
                ExitCode::from(1)
            }
        };
    }
    if let Cmd::Key(KeyCmd::New { file }) = &cli.cmd {
        return match key_cmd::create(file) {
            Ok(()) => {
                let _ = writeln!(io::stdout(), "wrote a new key to {}", file.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                let _ = writeln!(io::stderr(), "error: {}", message(&e));
                ExitCode::from(1)
            }
        };
    }
    let Some(db) = cli.db.clone() else {
        Cli::command()
            .error(
                clap::error::ErrorKind::MissingRequiredArgument,
                "no store given: pass --db PATH or set FIELDSALES_DB",
            )
            .exit();
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(&cli, &db, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        // The reader of our output went away (`| head`); nothing is wrong with the store.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "error: {}", message(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes in one line, skipping causes whose text the outer message already
/// repeats (the core's errors embed their source).
fn message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Opens the store. Only `lead add` may create a file, so a mistyped --db on any other command
/// is reported instead of silently starting an empty store.
fn open(cli: &Cli, db: &Path, create: bool, clock: Clock) -> Result<Store> {
    if !create && !db.exists() {
        bail!("there is no store at {}; the first `lead add` creates one", db.display());
    }
    let key = store_key(cli)?;
    let user = match &cli.user {
        Some(u) => u.clone(),
        None => match Store::peek_user_keyed(db, key.as_ref())? {
            Some(u) => u,
            None => bail!(
                "no user given: pass --user NAME or set FIELDSALES_USER to create the store at {}",
                db.display()
            ),
        },
    };
    let opts = OpenOptions::new(user).region(cli.region.as_str()).clock(clock);
    Ok(Store::open(db, with_key(opts, key))?)
}

/// The key `--key-file` names, if any.
fn store_key(cli: &Cli) -> Result<Option<fieldsales_core::store::StoreKey>> {
    cli.key_file.as_deref().map(key_cmd::read).transpose()
}

fn with_key(o: OpenOptions, key: Option<fieldsales_core::store::StoreKey>) -> OpenOptions {
    match key {
        Some(k) => o.key(k),
        None => o,
    }
}

fn json(out: &mut dyn Write, v: &impl serde::Serialize) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Reads a time flag; the flag's name leads the message so the user knows which one to fix.
fn when(flag: &str, s: Option<&str>, now: i64, tz: &Zone) -> Result<Option<i64>> {
    s.map(|s| tz.parse_time(s, now).map_err(|e| anyhow!("{flag}: {e}"))).transpose()
}

fn parse_zone(s: &str) -> std::result::Result<Zone, String> {
    Zone::parse(s).map_err(|e| e.to_string())
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn run(cli: &Cli, db: &Path, out: &mut dyn Write) -> Result<ExitCode> {
    // The core's one clock: the system's, or what FIELDSALES_NOW says (a time, or a skew).
    let clock =
        fieldsales_core::store::clock_from_env().map_err(|e| anyhow!("FIELDSALES_NOW: {e}"))?;
    let tz = &cli.tz;
    if let Cmd::Enroll { server, code, device_name } = &cli.cmd {
        let key = store_key(cli)?;
        let opts = |user: &str| {
            with_key(OpenOptions::new(user).region(&cli.region).clock(clock.clone()), key.clone())
        };
        let rt = runtime()?;
        let (_, msg) =
            sync_cmd::enroll_device(db, key.as_ref(), &opts, server, code, device_name, &rt)?;
        writeln!(out, "{msg}")?;
        return Ok(ExitCode::SUCCESS);
    }
    // A dry run may look at a file before any store exists.
    if let Cmd::Import { file, dry_run: true, map, ignore, currency, skip_invalid } = &cli.cmd
        && !db.exists()
    {
        let args = import_cmd::Args {
            file,
            dry_run: true,
            map,
            ignore,
            currency: currency.as_deref(),
            skip_invalid: *skip_invalid,
        };
        return import_cmd::run(None, &cli.region, &args, cli.json, out);
    }
    let creates =
        matches!(cli.cmd, Cmd::Lead(LeadCmd::Add { .. }) | Cmd::Import { dry_run: false, .. });
    let store = open(cli, db, creates, clock)?;
    // Corrected by the offset to the server's clock the last sync measured.
    let now = store.now();
    match &cli.cmd {
        Cmd::Lead(cmd) => lead(cli, &store, cmd, now, out)?,
        Cmd::Activity(cmd) => activity(cli, &store, cmd, now, out)?,
        Cmd::Search { text, limit } => {
            let found = store.search_leads(&text.join(" "), limit.unwrap_or(0))?;
            if cli.json {
                json(out, &found)?;
            } else if found.is_empty() {
                writeln!(out, "no leads match '{}'", print::clean(&text.join(" ")))?;
            } else {
                print::lead_table(out, &found, tz)?;
            }
        }
        Cmd::Followups { owner } => {
            let user = owner.as_deref().unwrap_or(store.user_id());
            let f = store.follow_ups(user, now, tz)?;
            if cli.json { json(out, &f)? } else { print::follow_ups(out, &f, tz)? }
        }
        Cmd::Export {
            format,
            include_deleted,
            out: file,
            period,
            from,
            to,
            updated_since,
            owner,
            stages,
            tag,
            event,
        } => {
            let (created_from, created_before) = match period {
                Some(kind) => {
                    let p = report_cmd::period(kind, None, None, now, tz)?;
                    (Some(p.start), Some(p.end))
                }
                None => (
                    when("--from", from.as_deref(), now, tz)?,
                    when("--to", to.as_deref(), now, tz)?,
                ),
            };
            let filter = fieldsales_core::export::ExportFilter {
                include_deleted: *include_deleted,
                created_from,
                created_before,
                updated_since: when("--updated-since", updated_since.as_deref(), now, tz)?,
                owners: owner.clone(),
                stages: stages.clone(),
                tag: tag.clone(),
                event: event.clone(),
            };
            export(&store, *format, &filter, file.as_deref(), out)?
        }
        Cmd::Import { file, dry_run, map, ignore, currency, skip_invalid } => {
            let args = import_cmd::Args {
                file,
                dry_run: *dry_run,
                map,
                ignore,
                currency: currency.as_deref(),
                skip_invalid: *skip_invalid,
            };
            return import_cmd::run(Some(&store), &cli.region, &args, cli.json, out);
        }
        Cmd::Verify => {
            let r = store.verify()?;
            let ok = r.is_ok();
            if cli.json {
                json(
                    out,
                    &serde_json::json!({ "ok": ok, "documents": r.documents, "projection_mismatches": r.projection_mismatches, "problems": r.problems }),
                )?;
            } else {
                print::verify(out, &r)?;
            }
            if !ok {
                return Ok(ExitCode::from(1));
            }
        }
        Cmd::Compact => {
            let n = store.compact()?;
            if cli.json {
                json(out, &serde_json::json!({ "compacted": n }))?
            } else {
                writeln!(out, "compacted {n} documents")?
            }
        }
        Cmd::Demo | Cmd::Key(_) | Cmd::Enroll { .. } => {
            unreachable!("handled before a store is opened")
        }
        Cmd::Sync => sync_cmd::sync(&store, &runtime()?, cli.json, out)?,
        Cmd::Duplicates => {
            let groups = store.duplicates()?;
            if cli.json {
                json(out, &groups)?;
            } else if groups.is_empty() {
                writeln!(out, "no likely duplicates")?;
            } else {
                for g in &groups {
                    writeln!(out, "{:?}: {}", g.reason, print::clean(&g.value))?;
                    print::lead_table(out, &g.leads, tz)?;
                    writeln!(out)?;
                }
                writeln!(out, "merge with: fieldsales lead merge KEEP_ID OTHER_ID")?;
            }
        }
        Cmd::Report { period, owner, cold_days, csv } => {
            let p = period.resolve(now, tz)?;
            // The workspace's win probabilities, not the built-in ones.
            let mut q = store.report_query(p, now)?;
            q.cold_after_days = *cold_days;
            if !owner.is_empty() {
                q.owners = Some(owner.clone());
            }
            report_cmd::run(&store, &q, cli.json, *csv, tz, out)?;
        }
        Cmd::Stages(StagesCmd::Show) => sales_cmd::stages_show(&store, cli.json, out)?,
        Cmd::Stages(StagesCmd::Set { stage, name, probability, require, require_nothing }) => {
            let required = if *require_nothing {
                Some(Vec::new())
            } else if require.is_empty() {
                None
            } else {
                Some(require.clone())
            };
            sales_cmd::stages_set(
                &store,
                *stage,
                name.clone(),
                probability.as_deref(),
                required,
                cli.json,
                out,
            )?
        }
        Cmd::Target(TargetCmd::Set { rep, team, metric, period, value, currency }) => {
            let p = period.resolve(now, tz)?;
            let subject = match (rep, team) {
                (Some(r), _) => (fieldsales_core::SubjectKind::Rep, r.clone()),
                (None, Some(t)) => (fieldsales_core::SubjectKind::Team, t.clone()),
                (None, None) => bail!("name whose target it is: --rep USER or --team TEAM"),
            };
            sales_cmd::target_set(
                &store,
                subject,
                *metric,
                p,
                value,
                currency.as_deref(),
                cli.json,
                tz,
                out,
            )?
        }
        Cmd::Target(TargetCmd::List { period }) => {
            let p = period.resolve(now, tz)?;
            sales_cmd::target_list(&store, p, cli.json, tz, out)?
        }
        Cmd::Target(TargetCmd::Delete { id }) => {
            let t = store.delete_target(id)?;
            if cli.json { json(out, &t)? } else { writeln!(out, "deleted target {}", t.id)? }
        }
        Cmd::Plan(PlanCmd::Set { rep, base, currency, rate, tiers }) => {
            sales_cmd::plan_set(&store, rep, base, currency, rate, tiers, cli.json, out)?
        }
        Cmd::Plan(PlanCmd::Show { rep }) => {
            sales_cmd::plan_show(&store, rep.as_deref(), cli.json, out)?
        }
        Cmd::Quarantine(QuarantineCmd::List) => quarantine_cmd::list(&store, cli.json, tz, out)?,
        Cmd::Quarantine(QuarantineCmd::Show { id }) => {
            quarantine_cmd::show(&store, *id, cli.json, tz, out)?
        }
        Cmd::Quarantine(QuarantineCmd::Apply { id }) => {
            quarantine_cmd::apply(&store, *id, cli.json, tz, out)?
        }
        Cmd::Quarantine(QuarantineCmd::Discard { id }) => {
            quarantine_cmd::discard(&store, *id, cli.json, out)?
        }
        Cmd::Quarantine(QuarantineCmd::Export { out: file }) => match file {
            Some(path) => {
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(path)
                        .with_context(|| format!("cannot write {}", path.display()))?,
                );
                let n = quarantine_cmd::export(&store, &mut f)?;
                f.flush()?;
                writeln!(out, "exported {n} quarantined changes to {}", path.display())?;
            }
            None => {
                quarantine_cmd::export(&store, out)?;
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

fn lead(cli: &Cli, store: &Store, cmd: &LeadCmd, now: i64, out: &mut dyn Write) -> Result<()> {
    let tz = &cli.tz;
    match cmd {
        LeadCmd::Add { fields: f, tags } => {
            let deal_value = match (&f.value, &f.currency) {
                (Some(v), Some(c)) => {
                    Some(validate::parse_money(v, c).map_err(|e| anyhow!("--value: {e}"))?)
                }
                (Some(_), None) => bail!("--value needs --currency (such as KRW or USD)"),
                (None, Some(_)) => bail!("--currency needs --value"),
                (None, None) => None,
            };
            let draft = LeadDraft {
                id: None,
                name: f.name.clone(),
                company: f.company.clone(),
                title: f.title.clone(),
                emails: f.emails.clone(),
                phones: f.phones.clone(),
                event: f.event.clone(),
                channel: f.channel,
                stage: f.stage,
                lost_reason: f.lost_reason.clone(),
                potential: f.potential,
                deal_value,
                owner: f.owner.clone(),
                tags: tags.clone(),
                notes: f.notes.clone(),
                custom_fields: f.custom.clone(),
                next_follow_up: when("--follow-up", f.follow_up.as_deref(), now, tz)?,
            };
            let lead = store.create_lead(draft)?;
            if cli.json { json(out, &lead)? } else { print::lead_detail(out, &lead, None, tz)? }
        }
        LeadCmd::Edit { id, fields: f, add_tags, remove_tags, remove_custom, clear } => {
            let deal_value = match (&f.value, &f.currency) {
                (Some(v), Some(c)) => {
                    Some(validate::parse_money(v, c).map_err(|e| anyhow!("--value: {e}"))?)
                }
                // A new amount in the currency the deal already has.
                (Some(v), None) => match store.lead(id)?.deal_value {
                    Some(m) => Some(
                        validate::parse_money(v, &m.currency)
                            .map_err(|e| anyhow!("--value: {e}"))?,
                    ),
                    None => bail!("--value needs --currency: the lead has no deal value yet"),
                },
                (None, Some(_)) => {
                    bail!("--currency needs --value (the amount in the new currency)")
                }
                (None, None) => None,
            };
            let mut patch = LeadPatch {
                name: f.name.clone(),
                company: f.company.clone(),
                title: f.title.clone(),
                emails: (!f.emails.is_empty()).then(|| f.emails.clone()),
                phones: (!f.phones.is_empty()).then(|| f.phones.clone()),
                event: f.event.clone(),
                channel: f.channel,
                stage: f.stage,
                lost_reason: f.lost_reason.clone(),
                potential: f.potential,
                deal_value,
                owner: f.owner.clone(),
                add_tags: add_tags.clone(),
                remove_tags: remove_tags.clone(),
                notes: f.notes.clone(),
                set_custom_fields: f.custom.clone(),
                remove_custom_fields: remove_custom.clone(),
                next_follow_up: when("--follow-up", f.follow_up.as_deref(), now, tz)?,
                clear: Vec::new(),
            };
            for c in clear {
                match c {
                    Clear::Field(field) => patch.clear.push(*field),
                    Clear::Emails => patch.emails = Some(Vec::new()),
                    Clear::Phones => patch.phones = Some(Vec::new()),
                }
            }
            if patch.is_empty() {
                bail!(
                    "nothing to change: name at least one field, such as --stage, --notes or --add-tag"
                );
            }
            let lead = store.update_lead(id, patch)?;
            if cli.json { json(out, &lead)? } else { print::lead_detail(out, &lead, None, tz)? }
        }
        LeadCmd::Show { id } => {
            let d = store.lead_detail(id)?;
            if cli.json {
                json(out, &d)?
            } else {
                print::lead_detail(out, &d.lead, Some(&d.activities), tz)?
            }
        }
        LeadCmd::List(a) => {
            let q = LeadQuery {
                stages: a.stages.clone(),
                potential: a.potential,
                owner: a.owner.clone(),
                tag: a.tag.clone(),
                event: a.event.clone(),
                follow_up_due_before: when("--due-before", a.due_before.as_deref(), now, tz)?,
                updated_since: when("--updated-since", a.updated_since.as_deref(), now, tz)?,
                deleted: a.deleted,
                sort: a.sort,
                ascending: if a.asc {
                    Some(true)
                } else if a.desc {
                    Some(false)
                } else {
                    None
                },
                limit: a.limit.unwrap_or(0),
                after: a.after.clone(),
            };
            let page = store.list_leads(&q)?;
            if cli.json {
                json(out, &page)?;
            } else {
                if page.items.is_empty() {
                    writeln!(out, "no leads")?;
                } else {
                    print::lead_table(out, &page.items, tz)?;
                }
                if let Some(next) = &page.next {
                    writeln!(out, "next: {next}")?;
                }
            }
        }
        LeadCmd::Delete { id } | LeadCmd::Restore { id } => {
            let deleting = matches!(cmd, LeadCmd::Delete { .. });
            let lead = if deleting { store.delete_lead(id)? } else { store.restore_lead(id)? };
            if cli.json {
                json(out, &lead)?;
            } else {
                let verb = if deleting { "deleted" } else { "restored" };
                writeln!(out, "{verb} {} {}", lead.id, print::clean(lead.display_name()))?;
            }
        }
        LeadCmd::Merge { keep, other } => {
            let lead = store.merge_leads(keep, other)?;
            if cli.json {
                json(out, &lead)?;
            } else {
                writeln!(
                    out,
                    "merged {other} into {} {}",
                    lead.id,
                    print::clean(lead.display_name())
                )?;
            }
        }
    }
    Ok(())
}

fn activity(
    cli: &Cli,
    store: &Store,
    cmd: &ActivityCmd,
    now: i64,
    out: &mut dyn Write,
) -> Result<()> {
    let tz = &cli.tz;
    match cmd {
        ActivityCmd::Add {
            lead_id,
            kind,
            subject,
            notes,
            at,
            due,
            duration,
            outcome,
            lat,
            lon,
            accuracy,
        } => {
            let mut draft = ActivityDraft::new(lead_id.as_str(), *kind, subject.as_str());
            draft.notes = notes.clone();
            draft.occurred_at = when("--at", at.as_deref(), now, tz)?;
            draft.due_at = when("--due", due.as_deref(), now, tz)?;
            draft.duration_s = duration
                .as_deref()
                .map(calendar::parse_duration)
                .transpose()
                .map_err(|e| anyhow!("--duration: {e}"))?;
            draft.outcome = outcome.clone();
            if let (Some(lat), Some(lon)) = (lat, lon) {
                draft.location = Some(Location { lat: *lat, lon: *lon, accuracy_m: *accuracy });
            }
            let a = store.add_activity(draft)?;
            if cli.json { json(out, &a)? } else { print::activity_detail(out, &a, tz)? }
        }
        ActivityCmd::List { lead_id } => {
            // lead_detail rather than activities_for_lead: it reports an unknown lead instead of
            // listing nothing.
            let acts = store.lead_detail(lead_id)?.activities;
            if cli.json {
                json(out, &acts)?;
            } else if acts.is_empty() {
                writeln!(out, "no activities")?;
            } else {
                print::activity_table(out, &acts, tz)?;
            }
        }
        ActivityCmd::Done { id } => {
            let a = store.complete_activity(id)?;
            if cli.json { json(out, &a)? } else { print::activity_detail(out, &a, tz)? }
        }
    }
    Ok(())
}

/// Export to a file goes through a temporary file in the same directory and a rename, so a
/// failed export never leaves a truncated file where a good one was.
fn export(
    store: &Store,
    format: Format,
    filter: &fieldsales_core::export::ExportFilter,
    file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<()> {
    let write = |w: &mut dyn Write| -> Result<usize> {
        Ok(match format {
            Format::Json => store.export_json_where(filter, w)?,
            Format::Csv => store.export_csv_where(filter, w)?,
        })
    };
    let Some(path) = file else {
        write(out)?;
        return Ok(());
    };
    let name =
        path.file_name().ok_or_else(|| anyhow!("--out {} is not a file name", path.display()))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| -> Result<usize> {
        let f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut w = BufWriter::new(f);
        let n = write(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(n)
    })();
    match result {
        Ok(n) => {
            let _ = writeln!(io::stderr(), "exported {n} leads to {}", path.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
