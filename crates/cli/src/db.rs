//! The database commands: import and sync plan files, change a status, list projects and
//! the event log, back up and restore, and load a stored plan for the read commands.
//!
//! Each command opens the store named by `--db` (else `TASKMAN_DATABASE_URL`, else the
//! SQLite file in the user's data directory), does its work and closes it; `backup` and
//! `restore`, which an operator runs next to a server, find it as `taskman serve` does
//! (flags, `TASKMAN_*`, the `--config`/`TASKMAN_CONFIG` file). What this
//! module must never do: write a plan file that changed on disk since it was read, or
//! settle a sync conflict on the user's behalf (the store reports them; we show them and
//! exit 1).

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use taskman_core::{Plan, Status};
use taskman_store::{
    Durability, EventFilter, Location, Options, PageRequest, Store, SyncReport, TaskFilter,
    TaskPatch,
};

use crate::files;
use crate::render::Out;
use crate::report::{self, WrittenBack};

mod lookup;

use lookup::{PAGE, Target, all_tasks, choose_plan, find_project, find_task, pick_task};

/// Where the database is. Every database command takes it.
#[derive(clap::Args)]
pub struct DbArgs {
    /// The database: a SQLite file (`PATH` or `sqlite://PATH`) or a `postgres://` URL.
    /// Default: `taskman/taskman.db` in the user's data directory.
    #[arg(
        long = "db",
        value_name = "LOCATION",
        env = "TASKMAN_DATABASE_URL",
        // The URL may hold a password: `--help` must not print it.
        hide_env_values = true
    )]
    db: Option<String>,
    /// `durable` (default): an acknowledged change survives a power loss (SQLite
    /// `synchronous=FULL`, PostgreSQL's default). `fast`: it survives a killed process but
    /// the last changes may be lost on power loss.
    #[arg(
        long,
        value_name = "MODE",
        env = "TASKMAN_DURABILITY",
        default_value = "durable",
        value_parser = ["durable", "fast"]
    )]
    durability: String,
}

impl DbArgs {
    pub fn location(&self) -> Location {
        self.db
            .as_deref()
            .filter(|s| !s.is_empty())
            .map_or_else(Location::default_sqlite, Location::parse)
    }

    pub async fn open(&self) -> Result<Store> {
        let loc = self.location();
        let options = Options {
            durability: Durability::parse(&self.durability).unwrap_or_default(),
            ..Options::default()
        };
        Store::open(&loc, options)
            .await
            .with_context(|| format!("{}: cannot open the database", loc.redacted()))
    }
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The markdown plan.
    file: PathBuf,
    /// The project to keep the plan in, created if missing. Default: the project the file
    /// was imported into before, else the plan's title, else the file name.
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Machine-readable output (schema in docs/cli-json.md).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    import: ImportArgs,
    /// Date for completion notes written into the file, `YYYY-MM-DD` (default: today, UTC).
    #[arg(long)]
    date: Option<String>,
}

#[derive(clap::Args)]
pub struct SetStatusArgs {
    /// The project's name.
    #[arg(long, value_name = "NAME")]
    project: String,
    /// Which of the project's plans, when the task id is used in several.
    #[arg(long, value_name = "NAME")]
    plan: Option<String>,
    /// Task id as the plan writes it (`Step 7`, `CORE-001`, or the slug other commands show).
    id: String,
    /// `todo`, `in_progress`, `blocked`, `deferred`, `done` or `cancelled`.
    #[arg(value_parser = parse_status)]
    status: Status,
    #[command(flatten)]
    db: DbArgs,
    /// Print the task as stored after the change, as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ProjectsArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Machine-readable output (schema in docs/cli-json.md).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The project's name.
    #[arg(long, value_name = "NAME")]
    project: String,
    /// Only the events of this task (its id in the plan).
    #[arg(long, value_name = "ID")]
    task: Option<String>,
    /// Which of the project's plans the task is in, when its id is used in several.
    #[arg(long, value_name = "NAME", requires = "task")]
    plan: Option<String>,
    #[command(flatten)]
    db: DbArgs,
    /// Machine-readable output (schema in docs/cli-json.md).
    #[arg(long)]
    json: bool,
}

/// Where a server's database is, found as `taskman serve` finds it: flags over
/// `TASKMAN_*` variables over the settings file over the default (docs/configuration.md),
/// so a backup never quietly copies another database than the one served.
#[derive(clap::Args)]
pub struct ServerDbArgs {
    /// The TOML settings file, read as `taskman serve` reads it (its `database` and
    /// `durability`) [env: TASKMAN_CONFIG]; without it, none is read.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The database: a SQLite file (`PATH` or `sqlite://PATH`) or a `postgres://` URL
    /// [env: TASKMAN_DATABASE_URL]. Default: the settings file's `database`, else
    /// `taskman/taskman.db` in the user's data directory.
    #[arg(long = "db", value_name = "LOCATION")]
    db: Option<String>,
    /// `durable` or `fast`, as for `taskman serve` [env: TASKMAN_DURABILITY].
    #[arg(long, value_name = "MODE")]
    durability: Option<String>,
}

impl ServerDbArgs {
    /// The settings as `serve` would load them (every problem reported, exit 2).
    fn config(&self) -> Result<crate::config::Config> {
        let flags = crate::config::SettingFlags::database(
            self.config.clone(),
            self.db.as_deref(),
            self.durability.as_deref(),
        );
        Ok(crate::config::load(&flags)?)
    }

    async fn open(config: &crate::config::Config) -> Result<Store> {
        let options = Options {
            durability: config.durability,
            ..Options::default()
        };
        Store::open(&config.location(), options)
            .await
            .with_context(|| {
                format!(
                    "{}: cannot open the database",
                    config.database_for_display()
                )
            })
    }
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Where to write the backup; must not exist yet (a backup never overwrites).
    path: PathBuf,
    #[command(flatten)]
    db: ServerDbArgs,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup to restore (written by `taskman backup`).
    path: PathBuf,
    /// Go ahead: everything in the database is replaced by the backup.
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    db: ServerDbArgs,
}

/// `taskman import`: store the file as the newest version of its plan, syncing when the
/// plan was imported before. Exit 1 on a conflict.
pub async fn import(out: &mut Out, a: &ImportArgs) -> Result<ExitCode> {
    let doc = files::read(&a.file)?;
    let store = a.db.open().await?;
    let target = Target::resolve(&store, a, &doc).await?;
    let r = target.import(&store, &doc).await?;
    report::imported(out, &a.file, &target.project, &r, a.json)?;
    Ok(exit_code(&r))
}

/// `taskman sync`: import, then write the statuses the database changed into the file and
/// import the written text, so the database records it as the version both sides agree on.
pub async fn sync(out: &mut Out, a: &SyncArgs) -> Result<ExitCode> {
    let file = &a.import.file;
    let doc = files::read(file)?;
    let store = a.import.db.open().await?;
    let target = Target::resolve(&store, &a.import, &doc).await?;
    let first = target.import(&store, &doc).await?;

    let today = a.date.clone().unwrap_or_else(files::today_utc);
    let mut cur = doc.clone();
    let mut written = Vec::new();
    // A status both sides changed differently is a conflict for a person to settle; the
    // file keeps its value even if the store also queues the database's for writing.
    let conflicted: HashSet<&str> = first
        .conflicts
        .iter()
        .filter(|c| c.field == "status")
        .map(|c| c.key.as_str())
        .collect();
    for change in first
        .pending_writeback
        .iter()
        .filter(|c| !conflicted.contains(c.key.as_str()))
    {
        let new = taskman_markdown::set_status(&cur, &change.key, change.to, &today)
            .map_err(|e| anyhow!("{}: {e}", file.display()))?;
        if new != cur.bytes {
            cur = taskman_markdown::parse(&new);
            let line = cur
                .plan
                .find(&change.key)
                .map_or(0, |i| cur.plan.tasks[i].line);
            written.push(WrittenBack {
                key: change.key.clone(),
                from: change.from,
                to: change.to,
                line,
            });
        }
    }
    let second = if written.is_empty() {
        None
    } else {
        files::write_if_unchanged(file, &doc.bytes, &cur.bytes)?;
        Some(target.import(&store, &cur).await.with_context(|| {
            format!(
                "{}: written, but recording the written text failed; run `taskman sync` again",
                file.display()
            )
        })?)
    };
    report::synced(
        out,
        file,
        &target.project,
        &first,
        &written,
        second.as_ref(),
        a.import.json,
    )?;
    Ok(exit_code(&first))
}

/// `taskman set-status`: change a task's status in the database.
pub async fn set_status(out: &mut Out, a: &SetStatusArgs) -> Result<()> {
    let store = a.db.open().await?;
    let project = find_project(&store, &a.project).await?;
    let plan_id = match &a.plan {
        Some(p) => Some(choose_plan(&store, &project, Some(p)).await?.id),
        None => None,
    };
    let task = find_task(&store, &project, plan_id, &a.id).await?;
    let after = store
        .update_task(
            &actor(),
            task.id,
            Some(task.version),
            TaskPatch::status(a.status),
        )
        .await
        .with_context(|| format!("task {} of project \"{}\"", task.key, project.name))?;
    report::status_set(out, &task, &after, a.json)
}

/// `taskman projects`.
pub async fn projects(out: &mut Out, a: &ProjectsArgs) -> Result<()> {
    let store = a.db.open().await?;
    let mut all = Vec::new();
    for p in store.list_projects().await.context("listing projects")? {
        let plans = store
            .list_plans(p.id)
            .await
            .with_context(|| format!("plans of project \"{}\"", p.name))?;
        all.push((p, plans));
    }
    report::projects(out, &all, a.json)
}

/// `taskman history`: every event of the project (or of one task), oldest first.
pub async fn history(out: &mut Out, a: &HistoryArgs) -> Result<()> {
    let store = a.db.open().await?;
    let project = find_project(&store, &a.project).await?;
    let tasks = all_tasks(
        &store,
        &TaskFilter {
            project_id: Some(project.id),
            ..TaskFilter::default()
        },
    )
    .await?;
    let task_id = match &a.task {
        Some(id) => {
            let plan_id = match &a.plan {
                Some(p) => Some(choose_plan(&store, &project, Some(p)).await?.id),
                None => None,
            };
            Some(pick_task(&tasks, &project, plan_id, id)?.id)
        }
        None => None,
    };
    let filter = EventFilter {
        project_id: Some(project.id),
        task_id,
        ..EventFilter::default()
    };
    let mut events = Vec::new();
    let mut page = PageRequest {
        after: None,
        limit: PAGE,
    };
    loop {
        let p = store
            .events(&filter, page)
            .await
            .context("reading the event log")?;
        events.extend(p.items);
        match p.next {
            Some(n) if page.after != Some(n) => page.after = Some(n),
            _ => break,
        }
    }
    report::history(out, &events, &tasks, a.json)
}

/// `taskman backup`.
pub async fn backup(out: &mut Out, a: &BackupArgs) -> Result<()> {
    let config = a.db.config()?;
    let store = ServerDbArgs::open(&config).await?;
    store.backup(&a.path).await.context("backup failed")?;
    out.line(&format!(
        "backed up {} to {}",
        config.database_for_display(),
        a.path.display()
    ))
}

/// `taskman restore`: refused without `--yes`, since it replaces every row.
pub async fn restore(out: &mut Out, a: &RestoreArgs) -> Result<()> {
    let config = a.db.config()?;
    let loc = config.database_for_display();
    if !a.yes {
        bail!(
            "restore replaces all data in {loc} with the backup {}; nothing done. Run again \
             with --yes to go ahead",
            a.path.display()
        );
    }
    let store = ServerDbArgs::open(&config).await?;
    store.restore(&a.path).await.context("restore failed")?;
    out.line(&format!("restored {loc} from {}", a.path.display()))
}

/// A plan of a project, rebuilt from the database, for the read commands; with the plan's
/// name (the path it was imported from) for messages.
pub async fn load_plan(db: &DbArgs, project: &str, plan: Option<&str>) -> Result<(Plan, String)> {
    let store = db.open().await?;
    let project = find_project(&store, project).await?;
    let info = choose_plan(&store, &project, plan).await?;
    let p = store
        .load_plan(info.id)
        .await
        .with_context(|| format!("plan {} of project \"{}\"", info.name, project.name))?;
    Ok((p, info.name))
}

fn exit_code(r: &SyncReport) -> ExitCode {
    if r.conflicts.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Who the event log records for changes made here.
fn actor() -> String {
    match std::env::var("USER") {
        Ok(u) if !u.is_empty() => format!("cli:{u}"),
        _ => "cli".into(),
    }
}

fn parse_status(s: &str) -> Result<Status, String> {
    let word = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    taskman_store::status_from_str(&word).ok_or_else(|| {
        format!(
            "unknown status \"{s}\": use todo, in_progress, blocked, deferred, done or cancelled"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_in_any_spelling_people_type() {
        assert_eq!(parse_status("in-progress"), Ok(Status::InProgress));
        assert_eq!(parse_status("In Progress"), Ok(Status::InProgress));
        assert_eq!(parse_status("DONE"), Ok(Status::Done));
        assert!(parse_status("finished").is_err());
    }
}
