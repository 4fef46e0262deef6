//! The `taskman` binary. Plan commands work on a bare markdown file: no database, no
//! server. Errors print the file (and line, where there is one) and exit with code 2.

mod files;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use taskman_core::{Analysis, Severity, Status};

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
}

#[derive(clap::Args)]
struct ReadArgs {
    /// The markdown plan.
    file: PathBuf,
    /// Machine-readable output (schema in docs/cli-json.md).
    #[arg(long)]
    json: bool,
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

fn run(cli: Cli) -> Result<ExitCode> {
    let out = &mut render::Out::stdout();
    match cli.command {
        Command::Status(a) => {
            let doc = files::read(&a.file)?;
            let an = Analysis::new(&doc.plan);
            render::status(out, &an, a.json)?;
        }
        Command::Next(a) => {
            let doc = files::read(&a.file)?;
            let an = Analysis::new(&doc.plan);
            render::next(out, &an, a.json)?;
        }
        Command::Blocked(a) => {
            let doc = files::read(&a.file)?;
            let an = Analysis::new(&doc.plan);
            render::blocked(out, &an, a.json)?;
        }
        Command::CriticalPath(a) => {
            let doc = files::read(&a.file)?;
            let an = Analysis::new(&doc.plan);
            render::critical_path(out, &an, a.json)?;
        }
        Command::Lint(a) => {
            let doc = files::read(&a.file)?;
            let an = Analysis::new(&doc.plan);
            let findings = taskman_core::lint::lint(&an);
            render::lint(out, &a.file, &findings, &doc.diagnostics, a.json)?;
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
