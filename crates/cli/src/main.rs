//! The `taskman` binary. Plan commands work on a bare markdown file, or on a plan kept in
//! the database (`--project`); the database commands ([`db`]) import, sync, back up and
//! restore. Only database commands start an async runtime: file commands stay plain
//! synchronous IO. Errors print the file (and line, where there is one) and exit with code 2.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod config;
mod db;
mod files;
mod render;
mod report;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use taskman_core::{Analysis, Plan, Severity, Status};
use taskman_markdown::Diagnostic;

/// Plans in markdown, kept live: progress, ready and blocked work, critical path, lint.
#[derive(Parser)]
#[command(name = "taskman", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Progress of the plan and of each section.
    Status(ReadArgs),
    /// Tasks ready to work on: open, with every dependency done.
    Next(ReadArgs),
    /// Open tasks waiting on other tasks, with what they wait on.
    Blocked(ReadArgs),
    /// The chain of dependent work that decides the project's duration.
    CriticalPath(ReadArgs),
    /// Every place the document contradicts itself. Exits 1 when an error is found.
    Lint(ReadArgs),
    /// One task with all its metadata.
    Show {
        file: PathBuf,
        /// Task id (`Step 7`, `CORE-001`, or the slug shown by other commands).
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Mark a task in progress, editing only the bytes that must change.
    Start(EditArgs),
    /// Mark a task done, editing only the bytes that must change.
    Done(EditArgs),
    /// The plan as JSON, or as markdown (an unchanged plan gives back the same bytes).
    Export {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Import a plan file into the database; importing it again syncs the changes. Exits 1
    /// when the file and the database changed the same thing differently (a conflict).
    Import(db::ImportArgs),
    /// Serve the HTTP API (`/api/v1`, `/health/live`) on the database until SIGTERM or
    /// SIGINT. An empty database gets an admin user and a one-time API key
    /// (`TASKMAN_BOOTSTRAP_TOKEN` sets it). Settings: flags > TASKMAN_* > --config file.
    Serve(serve::ServeArgs),
    /// The server's settings: `config check` validates them without serving, `config
    /// example` prints a settings file (docs/configuration.md).
    #[command(subcommand)]
    Config(config::ConfigCommand),
    /// Print the HTTP API's OpenAPI 3.1 document (the one served at /api/v1/openapi.json),
    /// e.g. to generate a client.
    Openapi,
    /// Import a plan file, then write the status changes made in the database back into
    /// it (atomic write, refused if the file changed on disk). Exits 1 on a conflict.
    Sync(db::SyncArgs),
    /// Set a task's status in the database; `taskman sync FILE` writes it into the file.
    SetStatus(db::SetStatusArgs),
    /// The projects in the database, with their plans.
    Projects(db::ProjectsArgs),
    /// A project's event log: who changed what, when, before and after.
    History(db::HistoryArgs),
    /// Write a backup of the whole database to a new file.
    Backup(db::BackupArgs),
    /// Replace everything in the database with a backup.
    Restore(db::RestoreArgs),
}

/// A plan to read: a markdown file, or a plan kept in the database (`--project`).
#[derive(clap::Args)]
#[command(group(ArgGroup::new("source").required(true).args(["file", "project"])))]
struct ReadArgs {
    /// The markdown plan.
    file: Option<PathBuf>,
    /// Read the plan from the database instead of a file: the project's name.
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// Which of the project's plans: its name or the end of it (`plan.md`); needed when the
    /// project has several.
    #[arg(long, value_name = "NAME", requires = "project")]
    plan: Option<String>,
    #[command(flatten)]
    db: db::DbArgs,
    /// Machine-readable output (schema in docs/cli-json.md).
    #[arg(long)]
    json: bool,
}

/// A plan as the read commands need it, from a file or rebuilt from the database.
struct Loaded {
    plan: Plan,
    diagnostics: Vec<Diagnostic>,
    /// What messages name: the file, or the stored plan's name (the path it came from).
    label: PathBuf,
}

impl ReadArgs {
    fn load(&self) -> Result<Loaded> {
        match (&self.file, &self.project) {
            (Some(file), _) => {
                let doc = files::read(file)?;
                Ok(Loaded {
                    plan: doc.plan,
                    diagnostics: doc.diagnostics,
                    label: file.clone(),
                })
            }
            (None, Some(project)) => {
                let (plan, name) =
                    runtime()?.block_on(db::load_plan(&self.db, project, self.plan.as_deref()))?;
                Ok(Loaded {
                    plan,
                    diagnostics: Vec::new(),
                    label: PathBuf::from(name),
                })
            }
            // clap's argument group makes this unreachable; say what is missing anyway.
            (None, None) => anyhow::bail!("name a plan file or a --project"),
        }
    }
}

#[derive(clap::Args)]
struct EditArgs {
    file: PathBuf,
    id: String,
    /// Date for a completion note, `YYYY-MM-DD` (default: today, UTC).
    #[arg(long)]
    date: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Markdown,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("taskman: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The runtime for database commands: one thread is plenty for one command's queries.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn run(cli: Cli) -> Result<ExitCode> {
    let out = &mut render::Out::stdout();
    match cli.command {
        Command::Status(a) => {
            let src = a.load()?;
            render::status(out, &Analysis::new(&src.plan), a.json)?;
        }
        Command::Next(a) => {
            let src = a.load()?;
            render::next(out, &Analysis::new(&src.plan), a.json)?;
        }
        Command::Blocked(a) => {
            let src = a.load()?;
            render::blocked(out, &Analysis::new(&src.plan), a.json)?;
        }
        Command::CriticalPath(a) => {
            let src = a.load()?;
            render::critical_path(out, &Analysis::new(&src.plan), a.json)?;
        }
        Command::Lint(a) => {
            let src = a.load()?;
            let an = Analysis::new(&src.plan);
            let findings = taskman_core::lint::lint(&an);
            render::lint(out, &src.label, &findings, &src.diagnostics, a.json)?;
            if findings.iter().any(|f| f.severity == Severity::Error) {
                return Ok(ExitCode::from(1));
            }
        }
        Command::Show { file, id, json } => {
            let doc = files::read(&file)?;
            let an = Analysis::new(&doc.plan);
            let i = doc
                .plan
                .find(&id)
                .with_context(|| format!("{}: no task with id \"{id}\"", file.display()))?;
            render::show(out, &an, i, json)?;
        }
        Command::Start(a) => edit(out, &a, Status::InProgress)?,
        Command::Done(a) => edit(out, &a, Status::Done)?,
        Command::Export { file, format } => {
            let doc = files::read(&file)?;
            match format {
                Format::Json => {
                    let an = Analysis::new(&doc.plan);
                    render::export_json(out, &an)?;
                }
                Format::Markdown => out.write_bytes(&doc.bytes)?,
            }
        }
        Command::Serve(a) => serve::serve(&a)?,
        Command::Config(c) => config::run(out, &c)?,
        Command::Openapi => {
            let doc = taskman_api::openapi()
                .to_pretty_json()
                .context("writing the OpenAPI document")?;
            out.line(&doc)?;
        }
        Command::Import(a) => return runtime()?.block_on(db::import(out, &a)),
        Command::Sync(a) => return runtime()?.block_on(db::sync(out, &a)),
        Command::SetStatus(a) => runtime()?.block_on(db::set_status(out, &a))?,
        Command::Projects(a) => runtime()?.block_on(db::projects(out, &a))?,
        Command::History(a) => runtime()?.block_on(db::history(out, &a))?,
        Command::Backup(a) => runtime()?.block_on(db::backup(out, &a))?,
        Command::Restore(a) => runtime()?.block_on(db::restore(out, &a))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn edit(out: &mut render::Out, a: &EditArgs, status: Status) -> Result<()> {
    let doc = files::read(&a.file)?;
    let today = a.date.clone().unwrap_or_else(files::today_utc);
    let new = taskman_markdown::set_status(&doc, &a.id, status, &today)
        .map_err(|e| anyhow::anyhow!("{}: {e}", a.file.display()))?;
    let i = doc.plan.find(&a.id).unwrap_or_default();
    let t = &doc.plan.tasks[i];
    if new == doc.bytes {
        out.line(&format!("{} is already {}", t.id, status.as_str()))?;
        return Ok(());
    }
    files::write_if_unchanged(&a.file, &doc.bytes, &new)?;
    out.line(&format!(
        "{}:{}: {} -> {}",
        a.file.display(),
        t.line,
        t.id,
        status.as_str()
    ))?;
    Ok(())
}
