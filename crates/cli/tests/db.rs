//! The database commands, run as the real binary against a fresh SQLite file (and, when
//! `TASKMAN_TEST_POSTGRES_URL` is set, a fresh PostgreSQL database).
//!
//! The strongest check: a plan imported unchanged reads back from the database exactly as
//! the file reads, for every seed and every read command (`--json` compared whole).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use taskman_testkit::PgDatabase;

const SEEDS: [&str; 5] = [
    "000_5a8b8b0b125d8697.txt",
    "001_736f0abe7c776d48.txt",
    "002_615674f418e0ad97.txt",
    "003_ee6f4187d9d9ae4f.txt",
    "004_19de9cb1061cedc3.txt",
];

const READ_COMMANDS: [&str; 5] = ["status", "next", "blocked", "critical-path", "lint"];

/// One test's world: a temporary directory for plan copies and backups, and a database.
struct Env {
    dir: tempfile::TempDir,
    db: String,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl Env {
    fn sqlite() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("taskman.db").to_string_lossy().into_owned();
        Env { dir, db }
    }

    /// A copy of a seed in the temp dir, under its own name, that the test may edit.
    fn seed(&self, name: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/seeds")
            .join(name);
        let dest = self.dir.path().join(name);
        std::fs::copy(&src, &dest).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        dest
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run taskman with `--db` pointing at this test's database; nothing reaches the
    /// user's own data directory or database.
    fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_taskman"))
            .args(args)
            .args(["--db", &self.db])
            .env_remove("TASKMAN_DATABASE_URL")
            .env("XDG_DATA_HOME", self.dir.path())
            .env("USER", "tester")
            .env("NO_COLOR", "1")
            .output()
            .expect("running taskman");
        Run::from(out)
    }

    /// Run and expect exit code 0.
    fn ok(&self, args: &[&str]) -> Run {
        let r = self.run(args);
        assert_eq!(
            r.code, 0,
            "taskman {args:?} exited {}\nstdout: {}\nstderr: {}",
            r.code, r.stdout, r.stderr
        );
        r
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Import every seed unchanged into its own project and check each read command gives
/// the same JSON (and exit code) from the database as from the file.
fn imports_read_back_as_the_file_reads(env: &Env) {
    for name in SEEDS {
        let file = env.seed(name);
        let project = format!("seed {}", &name[..3]);
        let r = env
            .ok(&["import", s(&file), "--project", &project, "--json"])
            .json();
        let file_status = env.ok(&["status", s(&file), "--json"]).json();
        assert_eq!(r["tasks"], file_status["total"], "{name}");
        assert_eq!(
            r["added"].as_array().map(Vec::len),
            file_status["total"].as_u64().map(|n| n as usize),
            "{name}"
        );
        assert_eq!(r["version"], json!(1), "{name}");
        for k in [
            "removed",
            "renamed",
            "moved",
            "status_changed",
            "conflicts",
            "kept",
            "pending_writeback",
        ] {
            assert_eq!(r[k], json!([]), "{name}: {k}");
        }
        for cmd in READ_COMMANDS {
            let from_file = env.run(&[cmd, s(&file), "--json"]);
            let from_db = env.run(&[cmd, "--project", &project, "--json"]);
            assert_eq!(
                (from_db.code, from_db.json()),
                (from_file.code, from_file.json()),
                "{name}: `{cmd}` differs between the database and the file\nstderr: {}",
                from_db.stderr
            );
        }
    }
}

#[test]
fn an_unchanged_import_reads_back_exactly_as_the_file_on_every_seed() {
    imports_read_back_as_the_file_reads(&Env::sqlite());
}

#[test]
fn importing_the_same_text_again_changes_nothing() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    let r = env
        .ok(&["import", s(&file), "--project", "p", "--json"])
        .json();
    assert_eq!(r["new_version"], json!(false));
    assert_eq!(r["version"], json!(1));
    for k in [
        "added",
        "removed",
        "status_changed",
        "conflicts",
        "pending_writeback",
    ] {
        assert_eq!(r[k], json!([]), "{k}");
    }
}

#[test]
fn ticking_a_box_in_the_file_is_the_one_change_the_next_import_reports() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    let text = std::fs::read_to_string(&file).unwrap();
    let ticked = text.replacen("- [ ] Step 11: Optimize", "- [x] Step 11: Optimize", 1);
    assert_ne!(ticked, text, "the seed has Step 11 open");
    std::fs::write(&file, ticked).unwrap();

    let r = env
        .ok(&["import", s(&file), "--project", "p", "--json"])
        .json();
    assert_eq!(r["new_version"], json!(true));
    assert_eq!(r["version"], json!(2));
    assert_eq!(
        r["status_changed"],
        json!([{"key": "Step 11", "from": "todo", "to": "done"}])
    );
    for k in [
        "added",
        "removed",
        "renamed",
        "moved",
        "conflicts",
        "kept",
        "pending_writeback",
    ] {
        assert_eq!(r[k], json!([]), "{k}");
    }
    assert_eq!(
        env.ok(&["status", "--project", "p", "--json"]).json(),
        env.ok(&["status", s(&file), "--json"]).json()
    );
}

#[test]
fn a_status_set_in_the_database_is_written_into_the_file_by_sync_and_only_there() {
    status_set_in_the_database_is_synced_into_the_file(&Env::sqlite());
}

fn status_set_in_the_database_is_synced_into_the_file(env: &Env) {
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    let before = std::fs::read_to_string(&file).unwrap();

    let set = env.ok(&["set-status", "--project", "p", "step-12", "in-progress"]);
    assert!(
        set.stdout.contains("Step 12: todo -> in_progress"),
        "{}",
        set.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        before,
        "set-status never touches files"
    );

    // An import sees the change waiting to be written and leaves the file alone.
    let r = env
        .ok(&["import", s(&file), "--project", "p", "--json"])
        .json();
    assert_eq!(
        r["pending_writeback"],
        json!([{"key": "Step 12", "from": "todo", "to": "in_progress"}])
    );

    let r = env
        .ok(&["sync", s(&file), "--date", "2026-01-02", "--json"])
        .json();
    assert_eq!(r["written_back"][0]["key"], json!("Step 12"));
    assert_eq!(r["written_back"][0]["line"], json!(46));
    assert_eq!(r["written_version"], json!(2));
    assert_eq!(r["still_pending"], json!([]));

    let after = std::fs::read_to_string(&file).unwrap();
    let changed: Vec<(usize, &str, &str)> = before
        .split('\n')
        .zip(after.split('\n'))
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i + 1, a, b))
        .collect();
    assert_eq!(before.split('\n').count(), after.split('\n').count());
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0].0, 46);
    assert!(changed[0].2.contains("Step 12"), "{changed:?}");

    let shown = env.ok(&["next", s(&file), "--json"]).json();
    let step12 = shown
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == json!("Step 12"))
        .expect("Step 12 is ready work");
    assert_eq!(step12["status"], json!("in_progress"));

    // The written text is the version both sides agree on: nothing left to sync.
    let r = env.ok(&["import", s(&file), "--json"]).json();
    assert_eq!(r["new_version"], json!(false));
    assert_eq!(r["pending_writeback"], json!([]));
    assert_eq!(r["status_changed"], json!([]));
    assert_eq!(
        env.ok(&["status", "--project", "p", "--json"]).json(),
        env.ok(&["status", s(&file), "--json"]).json()
    );
}

#[test]
fn different_changes_on_both_sides_are_a_conflict_and_exit_1() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    env.ok(&["set-status", "--project", "p", "Step 13", "cancelled"]);
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("- [ ] Step 13:", "- [x] Step 13:", 1)).unwrap();

    let r = env.run(&["sync", s(&file), "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["conflicts"][0]["key"], json!("Step 13"));
    assert_eq!(v["conflicts"][0]["file"], json!("done"));
    assert_eq!(v["conflicts"][0]["database"], json!("cancelled"));
    assert_eq!(
        v["written_back"],
        json!([]),
        "a conflict is never written back"
    );

    let human = env.run(&["import", s(&file)]);
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains("conflict: Step 13 status"),
        "{}",
        human.stdout
    );
}

#[test]
fn backup_then_restore_gives_back_the_same_data() {
    backup_round_trip(&Env::sqlite());
}

fn backup_round_trip(env: &Env) {
    let file = env.seed(SEEDS[1]);
    env.ok(&["import", s(&file), "--project", "p"]);
    env.ok(&[
        "set-status",
        "--project",
        "p",
        &first_open_task(env, &file),
        "done",
    ]);
    let snapshot = |env: &Env| {
        (
            env.ok(&["projects", "--json"]).json(),
            env.ok(&["status", "--project", "p", "--json"]).json(),
            env.ok(&["next", "--project", "p", "--json"]).json(),
            env.ok(&["history", "--project", "p", "--json"]).json(),
        )
    };
    let saved = snapshot(env);
    let backup = env.path("backup.db");
    env.ok(&["backup", s(&backup)]);
    assert!(backup.exists());
    let again = env.run(&["backup", s(&backup)]);
    assert_eq!(again.code, 2, "a backup never overwrites");

    // Change the data, then bring the backup back.
    env.ok(&[
        "set-status",
        "--project",
        "p",
        &first_open_task(env, &file),
        "cancelled",
    ]);
    env.ok(&["import", s(&env.seed(SEEDS[2])), "--project", "q"]);
    assert_ne!(snapshot(env), saved);

    let refused = env.run(&["restore", s(&backup)]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("replaces all data"),
        "{}",
        refused.stderr
    );
    assert_ne!(snapshot(env), saved, "refused: nothing changed");

    env.ok(&["restore", s(&backup), "--yes"]);
    assert_eq!(snapshot(env), saved);
}

fn first_open_task(env: &Env, file: &Path) -> String {
    let next = env.ok(&["next", s(file), "--json"]).json();
    next[0]["id"].as_str().expect("a ready task").to_string()
}

#[test]
fn history_says_who_changed_what() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    env.ok(&["set-status", "--project", "p", "Step 12", "blocked"]);
    let events = env
        .ok(&["history", "--project", "p", "--task", "Step 12", "--json"])
        .json();
    let events = events.as_array().unwrap();
    let last = events.last().expect("events of Step 12");
    assert_eq!(last["actor"], json!("cli:tester"));
    assert_eq!(last["action"], json!("task.status_changed"));
    assert!(events.iter().all(|e| e["task_id"] == last["task_id"]));

    let all = env.ok(&["history", "--project", "p"]);
    assert!(all.stdout.contains("cli:tester"), "{}", all.stdout);
    assert!(
        all.stdout.contains("status: todo -> blocked"),
        "{}",
        all.stdout
    );
}

#[test]
fn projects_lists_each_project_with_its_plans() {
    let env = Env::sqlite();
    let a = env.seed(SEEDS[0]);
    let b = env.seed(SEEDS[3]);
    env.ok(&["import", s(&a)]);
    env.ok(&["import", s(&b), "--project", "other"]);
    let v = env.ok(&["projects", "--json"]).json();
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    // Without --project a plan is filed under its title.
    let title = env.ok(&["status", s(&a), "--json"]).json()["title"].clone();
    assert!(names.contains(&title.as_str().unwrap()), "{names:?}");
    assert!(names.contains(&"other"), "{names:?}");
    let other = v
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == json!("other"))
        .unwrap();
    let canonical = std::fs::canonicalize(&b).unwrap();
    assert_eq!(
        other["plans"][0]["name"],
        json!(canonical.to_str().unwrap())
    );
}

#[test]
fn a_file_imported_again_from_another_directory_is_the_same_plan() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    let out = Command::new(env!("CARGO_BIN_EXE_taskman"))
        .current_dir(env.dir.path())
        .args(["import", SEEDS[0], "--json", "--db", &env.db])
        .env_remove("TASKMAN_DATABASE_URL")
        .env("XDG_DATA_HOME", env.dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["new_version"], json!(false));
    assert_eq!(r["added"], json!([]));
    assert_eq!(
        env.ok(&["projects", "--json"])
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn a_project_with_several_plans_asks_which_one() {
    let env = Env::sqlite();
    let a = env.seed(SEEDS[0]);
    let b = env.seed(SEEDS[4]);
    env.ok(&["import", s(&a), "--project", "p"]);
    env.ok(&["import", s(&b), "--project", "p"]);
    let r = env.run(&["status", "--project", "p"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("--plan") && r.stderr.contains(SEEDS[4]),
        "{}",
        r.stderr
    );
    assert_eq!(
        env.ok(&["status", "--project", "p", "--plan", SEEDS[4], "--json"])
            .json(),
        env.ok(&["status", s(&b), "--json"]).json()
    );
}

#[test]
fn read_commands_need_exactly_one_of_a_file_or_a_project() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    let none = env.run(&["status"]);
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("--project"), "{}", none.stderr);
    let both = env.run(&["status", s(&file), "--project", "p"]);
    assert_eq!(both.code, 2);
    let missing = env.run(&["status", "--project", "nope"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no project named \"nope\""),
        "{}",
        missing.stderr
    );
    assert!(!missing.stderr.contains("panicked"), "{}", missing.stderr);
}

#[test]
fn set_status_names_what_it_cannot_find() {
    let env = Env::sqlite();
    let file = env.seed(SEEDS[0]);
    env.ok(&["import", s(&file), "--project", "p"]);
    let r = env.run(&["set-status", "--project", "p", "Step 999", "done"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("no task with id \"Step 999\""),
        "{}",
        r.stderr
    );
    let r = env.run(&["set-status", "--project", "p", "Step 12", "finished"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown status"), "{}", r.stderr);
}

/// A fresh database on the PostgreSQL server at `TASKMAN_TEST_POSTGRES_URL` (dropped with
/// the returned guard), or `None` (with a notice) when it is not set; CI sets
/// `TASKMAN_REQUIRE_POSTGRES=1` so that a missing server fails instead of skipping.
fn postgres_env() -> Option<(Env, PgDatabase)> {
    let pg = PgDatabase::create("cli")?;
    let env = Env {
        dir: tempfile::tempdir().expect("temp dir"),
        db: pg.url().to_string(),
    };
    Some((env, pg))
}

#[test]
fn on_postgres_an_unchanged_import_reads_back_exactly_as_the_file() {
    if let Some((env, _db)) = postgres_env() {
        imports_read_back_as_the_file_reads(&env);
    }
}

#[test]
fn on_postgres_a_status_set_in_the_database_is_written_into_the_file_by_sync() {
    if let Some((env, _db)) = postgres_env() {
        status_set_in_the_database_is_synced_into_the_file(&env);
    }
}

#[test]
fn on_postgres_backup_then_restore_gives_back_the_same_data() {
    if let Some((env, _db)) = postgres_env() {
        backup_round_trip(&env);
    }
}

/// `backup` and `restore` find the database as `serve` does: the settings file (given by
/// `--config` or `TASKMAN_CONFIG`) under `TASKMAN_DATABASE_URL` under `--db`; never the
/// default file when the settings name another.
#[test]
fn backup_and_restore_take_the_database_from_the_server_settings() {
    let env = Env::sqlite();
    // Run taskman with only these `TASKMAN_*` variables and no `--db` of the test's own.
    let run = |args: &[&str], vars: &[(&str, &str)]| -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskman"));
        cmd.args(args);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("TASKMAN_") {
                cmd.env_remove(name);
            }
        }
        let out = cmd
            .envs(vars.iter().copied())
            .env("XDG_DATA_HOME", env.path("data"))
            .env("NO_COLOR", "1")
            .output()
            .expect("running taskman");
        Run::from(out)
    };
    let ok = |args: &[&str], vars: &[(&str, &str)]| -> Run {
        let r = run(args, vars);
        assert_eq!(r.code, 0, "taskman {args:?}: {}", r.stderr);
        r
    };
    let projects = |db: &str| -> Vec<String> {
        ok(&["projects", "--json", "--db", db], &[])
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect()
    };
    // The served database (named by the settings file) and another one.
    let served = env.db.clone();
    let other = env.path("other.db");
    let other = s(&other);
    ok(
        &[
            "import",
            s(&env.seed(SEEDS[1])),
            "--project",
            "served",
            "--db",
            &served,
        ],
        &[],
    );
    ok(
        &[
            "import",
            s(&env.seed(SEEDS[2])),
            "--project",
            "other",
            "--db",
            other,
        ],
        &[],
    );
    let settings = env.path("taskman.toml");
    std::fs::write(
        &settings,
        format!(
            "database = {served:?}\ndurability = \"fast\"\n[http]\nrequest_timeout_secs = 30\n"
        ),
    )
    .unwrap();
    let settings = s(&settings);

    let backup = |name: &str, args: &[&str], vars: &[(&str, &str)]| -> (String, String) {
        let path = s(&env.path(name)).to_string();
        let mut all = vec!["backup", path.as_str()];
        all.extend_from_slice(args);
        let r = ok(&all, vars);
        (path, r.stdout.trim().to_string())
    };
    // --config, and TASKMAN_CONFIG: the served database.
    let (b1, said) = backup("b1.backup", &["--config", settings], &[]);
    assert_eq!(said, format!("backed up {served} to {b1}"));
    let (b2, said) = backup("b2.backup", &[], &[("TASKMAN_CONFIG", settings)]);
    assert_eq!(said, format!("backed up {served} to {b2}"));
    // The variable overrides the file; the flag overrides the variable.
    let (b3, said) = backup(
        "b3.backup",
        &["--config", settings],
        &[("TASKMAN_DATABASE_URL", other)],
    );
    assert_eq!(said, format!("backed up {other} to {b3}"));
    let (b4, said) = backup(
        "b4.backup",
        &["--config", settings, "--db", &served],
        &[("TASKMAN_DATABASE_URL", other)],
    );
    assert_eq!(said, format!("backed up {served} to {b4}"));
    // Each backup holds what its message says.
    assert_eq!(projects(&b1), ["served"]);
    assert_eq!(projects(&b2), ["served"]);
    assert_eq!(projects(&b3), ["other"]);
    assert_eq!(projects(&b4), ["served"]);

    // Restore, into the database the settings file names.
    let r = run(&["restore", &b3, "--config", settings], &[]);
    assert_eq!(r.code, 2, "refused without --yes");
    assert!(r.stderr.contains(&served), "{}", r.stderr);
    let r = ok(&["restore", &b3, "--yes", "--config", settings], &[]);
    assert_eq!(r.stdout.trim(), format!("restored {served} from {b3}"));
    assert_eq!(projects(&served), ["other"]);
    assert!(
        !env.path("data/taskman").exists(),
        "the default database in the user's data directory was never opened"
    );

    // A settings file `serve` would refuse is refused here too, naming the setting.
    std::fs::write(settings, "database = 5\n").unwrap();
    let b5 = env.path("b5.backup");
    let r = run(&["backup", s(&b5), "--config", settings], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("line 1: database = 5: expected a string"),
        "{}",
        r.stderr
    );
    assert!(!b5.exists());
}
