//! Acknowledged writes survive a killed process, and concurrent writers share commits
//! without losing or mixing up anyone's change.
//!
//! The kill test runs this test binary a second time as a child (`writer_child`, ignored
//! unless asked for), which writes tasks one after another and prints each id once the
//! store has acknowledged it. The parent kills it with SIGKILL mid-stream, reopens the
//! database and checks every acknowledged task is there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use taskman_store::{Location, NewTask, Options, Store, TaskPatch};

fn task(title: String) -> NewTask {
    NewTask {
        title,
        ..NewTask::default()
    }
}

#[test]
#[ignore = "run as a child process by acknowledged_writes_survive_a_killed_process"]
fn writer_child() {
    let Ok(path) = std::env::var("TASKMAN_DURABILITY_DB") else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(&Location::Sqlite(path.into()), Options::default())
            .await
            .unwrap();
        let p = store.create_project("child", "p", "").await.unwrap();
        println!("project {}", p.id);
        for i in 0.. {
            let t = store
                .create_task("child", p.id, task(format!("task {i}")))
                .await
                .unwrap();
            println!("ack {}", t.id);
        }
    });
}

#[tokio::test]
async fn acknowledged_writes_survive_a_killed_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kill.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["writer_child", "--exact", "--ignored", "--nocapture"])
        .env("TASKMAN_DURABILITY_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(id) = line.strip_prefix("ack ") {
            acked.push(id.parse::<i64>().unwrap());
            if acked.len() == 200 {
                // SIGKILL: no destructors, no flush, no clean close.
                child.kill().unwrap();
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(acked.len(), 200, "the child acknowledged 200 writes");

    let store = Store::open(&Location::Sqlite(db), Options::default())
        .await
        .unwrap();
    for id in &acked {
        let t = store.get_task(*id).await.unwrap_or_else(|e| {
            panic!("acknowledged task {id} lost after kill: {e}");
        });
        assert!(t.title.starts_with("task "));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_each_get_their_own_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        Store::open(
            &Location::Sqlite(dir.path().join("c.db")),
            Options::default(),
        )
        .await
        .unwrap(),
    );
    let p = store.create_project("t", "p", "").await.unwrap();
    let mut handles = Vec::new();
    for i in 0..64 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            let t = s
                .create_task("t", p.id, task(format!("w{i}")))
                .await
                .unwrap();
            (i, t)
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        let (i, t) = h.await.unwrap();
        assert_eq!(t.title, format!("w{i}"), "each writer sees its own task");
        ids.push(t.id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 64);

    // In the same batches, a failing change (stale version) must not undo the others.
    let target = ids[0];
    let mut handles = Vec::new();
    for (k, id) in ids.iter().copied().enumerate() {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            let expected = if k % 2 == 0 { Some(1) } else { Some(99) };
            s.update_task(
                "t",
                id,
                expected,
                TaskPatch::status(taskman_core::Status::Done),
            )
            .await
        }));
    }
    let mut ok = 0;
    let mut conflicts = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(t) => {
                assert_eq!(t.version, 2);
                ok += 1;
            }
            Err(taskman_store::StoreError::VersionConflict {
                expected, current, ..
            }) => {
                assert_eq!((expected, current), (99, 1));
                conflicts += 1;
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!((ok, conflicts), (32, 32));
    let p = store.progress(p.id).await.unwrap();
    assert_eq!((p.total, p.done), (64, 32));
    assert_eq!(
        store.get_task(target).await.unwrap().status,
        taskman_core::Status::Done
    );
}
