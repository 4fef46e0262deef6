//! Golden tests over the five seed plans. Every expected value here was derived by reading
//! the documents line by line (see the comments), not by running the reader.

use taskman_core::lint::lint;
use taskman_core::{Analysis, Priority, Status, TaskKind};
use taskman_markdown::{Document, mojibake::Codepage, parse, set_status};

const S000: &[u8] = include_bytes!("../../../tests/fixtures/seeds/000_5a8b8b0b125d8697.txt");
const S001: &[u8] = include_bytes!("../../../tests/fixtures/seeds/001_736f0abe7c776d48.txt");
const S002: &[u8] = include_bytes!("../../../tests/fixtures/seeds/002_615674f418e0ad97.txt");
const S003: &[u8] = include_bytes!("../../../tests/fixtures/seeds/003_ee6f4187d9d9ae4f.txt");
const S004: &[u8] = include_bytes!("../../../tests/fixtures/seeds/004_19de9cb1061cedc3.txt");
const ALL: [&[u8]; 5] = [S000, S001, S002, S003, S004];

fn ids(doc: &Document, list: &[usize]) -> Vec<String> {
    list.iter().map(|&i| doc.plan.tasks[i].id.clone()).collect()
}

fn findings(doc: &Document) -> Vec<(u32, &'static str)> {
    lint(&Analysis::new(&doc.plan))
        .into_iter()
        .map(|f| (f.line, f.code))
        .collect()
}

fn section(doc: &Document, a: &Analysis, starts_with: &str) -> (usize, usize) {
    let s = a
        .section_progress()
        .into_iter()
        .find(|s| s.title.starts_with(starts_with))
        .unwrap_or_else(|| {
            panic!(
                "no section {starts_with:?} in {:?}",
                doc.plan
                    .sections
                    .iter()
                    .map(|s| &s.title)
                    .collect::<Vec<_>>()
            )
        });
    (s.done, s.total)
}

// Seed 000: Steps 0.1-0.5 and 1-100 = 105 checkbox tasks; 0.1-0.5, 1-5 and 6 are checked
// (11); Step 7 says IN PROGRESS. Step 8 depends on Step 7, Step 10 on Step 8.
#[test]
fn seed_000_counts_progress_and_sections() {
    let doc = parse(S000);
    let a = Analysis::new(&doc.plan);
    let p = a.progress();
    assert_eq!((p.total, p.done, p.in_progress), (105, 11, 1));
    assert_eq!(section(&doc, &a, "EMERGENCY WEEK 0"), (5, 5));
    assert_eq!(section(&doc, &a, "MONTH 1: Foundation - Week 1"), (5, 5));
    assert_eq!(section(&doc, &a, "MONTH 1: Foundation - Week 2"), (1, 5));
    assert_eq!(section(&doc, &a, "MONTH 2"), (0, 20));
    assert_eq!(section(&doc, &a, "Week 5-6"), (0, 10));
    assert_eq!(section(&doc, &a, "MONTH 5"), (0, 10));
    assert_eq!(doc.codepage, Some(Codepage::Windows1252));
    let s6 = &doc.plan.tasks[doc.plan.find("Step 6").unwrap()];
    assert_eq!(
        (s6.title.as_str(), s6.status),
        ("GitHub Actions CI/CD", Status::Done)
    );
    let s7 = &doc.plan.tasks[doc.plan.find("step-7").unwrap()];
    assert_eq!(s7.status, Status::InProgress);
    assert!(
        s7.fields
            .iter()
            .any(|f| f.name == "Action" && f.value == "pytest-cov with 70% threshold")
    );
}

#[test]
fn seed_000_ready_blocked_and_critical_path() {
    let doc = parse(S000);
    let a = Analysis::new(&doc.plan);
    let ready = a.ready();
    assert_eq!(ids(&doc, &ready[..3]), ["Step 7", "Step 9", "Step 11"]);
    assert_eq!(ready.len(), 105 - 11 - 2);
    let blocked: Vec<(String, Vec<String>)> = a
        .blocked()
        .into_iter()
        .map(|b| (doc.plan.tasks[b.task].id.clone(), ids(&doc, &b.blocked_by)))
        .collect();
    assert_eq!(
        blocked,
        [
            ("Step 8".into(), vec!["Step 7".to_string()]),
            ("Step 10".into(), vec!["Step 8".to_string()])
        ]
    );
    // No effort anywhere: the longest chain of open dependencies, 0 hours.
    let s = a.schedule();
    assert_eq!(ids(&doc, &s.path), ["Step 7", "Step 8", "Step 10"]);
    assert_eq!(s.duration_hours, 0.0);
    assert_eq!(s.zero_effort.len(), 94);
}

// Line 31/39: Steps 8 and 10 say NEXT but wait on open steps; line 201 claims 11/100 while
// the plan lists 105 steps; line 205 lists Step 8 as READY while Step 7 is open.
#[test]
fn seed_000_lint() {
    assert_eq!(
        findings(&parse(S000)),
        [
            (31, "ready-with-open-deps"),
            (39, "ready-with-open-deps"),
            (201, "progress-claim-total"),
            (205, "ready-with-open-deps")
        ]
    );
}

// Seed 001: 512 unchecked boxes, no mojibake. Line 3 claims 62.5% overall; line 714 claims
// "5 of 8 phases" while the list at 703-712 ticks 6 of 10 phases.
#[test]
fn seed_001_counts_and_lint() {
    let doc = parse(S001);
    let a = Analysis::new(&doc.plan);
    let p = a.progress();
    assert_eq!((p.total, p.done), (512, 0));
    assert_eq!(doc.codepage, None);
    assert_eq!(section(&doc, &a, "Logging Infrastructure"), (0, 33));
    let install = &doc.plan.tasks[0];
    assert_eq!(install.title, "Install structured logging library");
    assert_eq!(doc.plan.tasks[1].parent, Some(0));
    assert_eq!(
        findings(&doc),
        [
            (3, "progress-claim-percent"),
            (714, "progress-claim-phases")
        ]
    );
    assert_eq!(a.ready().len(), 512);
}

// Seed 002: 13 heading tasks (`#### ☐ ID: ...`) with 259 list items = 272 tasks.
#[test]
fn seed_002_heading_tasks_metadata_and_dependencies() {
    let doc = parse(S002);
    let a = Analysis::new(&doc.plan);
    assert_eq!(a.progress().total, 272);
    assert_eq!(doc.codepage, Some(Codepage::Windows1254));
    let heading: Vec<&str> = doc
        .plan
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Heading)
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(
        heading,
        [
            "CORE-001",
            "CORE-002",
            "SEC-001",
            "CONFIG-001",
            "VALIDATION-001",
            "ERROR-001",
            "TESTING-001",
            "MONITORING-001",
            "PERF-001",
            "DEPLOY-001",
            "DOCS-001",
            "REAL-TIME-001",
            "SECURITY-001"
        ]
    );
    let t = |id: &str| &doc.plan.tasks[doc.plan.find(id).unwrap()];
    assert_eq!(t("CORE-001").title, "FastAPI REST API Layer");
    assert_eq!(t("CORE-001").priority, Some(Priority::Critical));
    assert_eq!(t("SEC-001").effort.map(|e| e.max_hours), Some(60.0));
    assert_eq!(t("CONFIG-001").priority, Some(Priority::High));
    assert_eq!(t("REAL-TIME-001").priority, Some(Priority::Low));
    assert!(
        t("CORE-001")
            .fields
            .iter()
            .any(|f| f.name == "Validation Command" && f.value.starts_with("pytest tests/api/"))
    );
    let i = doc.plan.find("DEPLOY-001").unwrap();
    assert_eq!(
        ids(&doc, &a.direct[i]),
        [
            "CORE-001",
            "CORE-002",
            "SEC-001",
            "CONFIG-001",
            "VALIDATION-001",
            "ERROR-001",
            "TESTING-001",
            "MONITORING-001",
            "PERF-001"
        ]
    );
    // Subtasks belong to their heading task and wait on what it waits on.
    let sub = doc
        .plan
        .tasks
        .iter()
        .position(|t| t.title == "Implement JWT token-based authentication")
        .unwrap();
    assert_eq!(doc.plan.tasks[sub].parent, doc.plan.find("SEC-001"));
    assert_eq!(ids(&doc, &a.open_deps(sub)), ["CORE-001"]);
    // The timeline entry at line 735 repeats CORE-001: a mirror, not a duplicate.
    let mirror = doc.plan.tasks.iter().find(|t| t.line == 735).unwrap();
    assert_eq!(mirror.mirror_of.as_deref(), Some("CORE-001"));
}

// CORE-001 2w=80h, SEC-001 1.5w=60h (needs CORE-001), TESTING-001 2w=80h (needs SEC-001),
// DEPLOY-001 1w=40h (needs all previous): 260 h, the longest chain.
#[test]
fn seed_002_critical_path() {
    let doc = parse(S002);
    let s = Analysis::new(&doc.plan).schedule();
    assert_eq!(
        ids(&doc, &s.path),
        ["CORE-001", "SEC-001", "TESTING-001", "DEPLOY-001"]
    );
    assert_eq!(s.duration_hours, 260.0);
}

// Line 6 claims 60% ready with no box ticked; line 9 claims 47 tasks (13 top-level headings,
// 272 in all); line 696 says PERF-001 needs MONITORING-001, which its own line 423 does
// not list; line 703 draws SEC-001 -> VALIDATION-001 -> TESTING-001 -> PERF-001, none of
// which are dependencies; line 711 claims 5 critical tasks in Phase 1 (it has 4, 3 critical).
#[test]
fn seed_002_lint() {
    assert_eq!(
        findings(&parse(S002)),
        [
            (6, "progress-claim-percent"),
            (9, "task-count-claim"),
            (696, "matrix-disagrees"),
            (703, "critical-path-broken"),
            (703, "critical-path-broken"),
            (703, "critical-path-broken"),
            (703, "critical-path-differs"),
            (711, "task-count-claim"),
        ]
    );
}

// Seed 003: 139 boxes; "Phase 2 depends on Phase 1" etc. (lines 309-311) make every task of
// a phase wait for the previous phase: Phase 1 (44 tasks) and "None currently" are ready,
// Phases 2-4 (22 + 39 + 33) are blocked.
#[test]
fn seed_003_phase_dependencies() {
    let doc = parse(S003);
    let a = Analysis::new(&doc.plan);
    assert_eq!(a.progress().total, 139);
    assert_eq!(doc.plan.section_deps.len(), 3);
    assert_eq!(a.ready().len(), 45);
    assert_eq!(a.blocked().len(), 94);
    let apm = doc
        .plan
        .tasks
        .iter()
        .position(|t| t.title == "Application Performance Monitoring")
        .unwrap();
    assert_eq!(a.open_deps(apm).len(), 44);
    let cicd = &doc.plan.tasks[0];
    assert_eq!(cicd.title, "Set up CI/CD Pipeline");
    assert_eq!(cicd.owner.as_deref(), Some("DevOps"));
    assert_eq!(cicd.effort.map(|e| e.max_hours), Some(80.0));
    assert_eq!(cicd.priority, Some(Priority::Critical));
    assert_eq!(doc.codepage, Some(Codepage::Windows1252));
}

// Longest effort per phase, chained by the phase rule: Unit Test Coverage 3w, Data Quality
// Framework 3w, SDK Development 4w (ties with GraphQL; first in the document), Container
// Orchestration 8w = 18 weeks = 720 h. Lint: Phase 3 starts in week 12 while Phase 2, which
// it depends on, runs to week 13.
#[test]
fn seed_003_critical_path_and_lint() {
    let doc = parse(S003);
    let a = Analysis::new(&doc.plan);
    let s = a.schedule();
    let titles: Vec<&str> = s
        .path
        .iter()
        .map(|&i| doc.plan.tasks[i].title.as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Unit Test Coverage",
            "Data Quality Framework",
            "SDK Development",
            "Container Orchestration"
        ]
    );
    assert_eq!(s.duration_hours, 720.0);
    assert_eq!(findings(&doc), [(310, "schedule-overlap")]);
}

// Seed 004: 180 boxes, Mac Roman mojibake, no contradictions.
#[test]
fn seed_004_mac_roman() {
    let doc = parse(S004);
    assert_eq!(doc.plan.tasks.len(), 180);
    assert_eq!(doc.codepage, Some(Codepage::MacRoman));
    assert_eq!(doc.plan.sections[1].title, "🚀 MVP Launch Phases (8 Weeks)");
    assert!(findings(&doc).is_empty());
}

#[test]
fn every_seed_round_trips_byte_for_byte() {
    for src in ALL {
        let doc = parse(src);
        assert_eq!(doc.bytes, src);
        // Setting each task to the status it has changes nothing.
        for t in doc.plan.tasks.iter().take(50) {
            assert_eq!(
                set_status(&doc, &t.id, t.status, "2026-01-01").unwrap(),
                src
            );
        }
    }
}

fn changed_lines(a: &[u8], b: &[u8]) -> Vec<usize> {
    let la: Vec<&[u8]> = a.split(|c| *c == b'\n').collect();
    let lb: Vec<&[u8]> = b.split(|c| *c == b'\n').collect();
    assert_eq!(la.len(), lb.len(), "line count changed");
    la.iter()
        .zip(&lb)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, _)| i + 1)
        .collect()
}

#[test]
fn done_on_a_seed_changes_exactly_one_line() {
    for src in ALL {
        let doc = parse(src);
        for (i, t) in doc.plan.tasks.iter().enumerate() {
            if t.status == Status::Done || t.kind == TaskKind::Heading {
                continue;
            }
            let new = set_status(&doc, &t.id, Status::Done, "2026-11-22").unwrap();
            assert_eq!(
                changed_lines(src, &new),
                [t.line as usize],
                "task {i} {}",
                t.id
            );
            let again = parse(&new);
            assert_eq!(again.plan.tasks[i].status, Status::Done, "{}", t.id);
            assert_eq!(again.plan.tasks.len(), doc.plan.tasks.len());
        }
    }
}

// Step 8 in seed 000 is written `- [ ] **Step 8: ...** ðŸ“‹ **NEXT**`; done items there read
// `âœ… **COMPLETED**`, mangled bytes included: the edit copies that.
#[test]
fn done_copies_the_documents_own_convention_mangled_bytes_included() {
    let doc = parse(S000);
    let new = set_status(&doc, "Step 8", Status::Done, "2026-11-22").unwrap();
    let line = String::from_utf8(new.split(|c| *c == b'\n').nth(30).unwrap().to_vec()).unwrap();
    assert_eq!(
        line,
        "- [x] **Step 8: Fix Broken Integration Tests** âœ… **COMPLETED**"
    );
    // A step with no status words gets them, as every done step in this document has.
    let new = set_status(&doc, "Step 11", Status::Done, "2026-11-22").unwrap();
    let line = String::from_utf8(new.split(|c| *c == b'\n').nth(44).unwrap().to_vec()).unwrap();
    assert_eq!(
        line,
        "- [x] Step 11: Optimize Frontend Bundle (<200KB) âœ… **COMPLETED**"
    );
    // Starting Step 9 copies Step 7's in-progress words.
    let new = set_status(&doc, "Step 9", Status::InProgress, "2026-11-22").unwrap();
    let line = String::from_utf8(new.split(|c| *c == b'\n').nth(34).unwrap().to_vec()).unwrap();
    assert_eq!(
        line,
        "- [ ] **Step 9: Add Pre-commit Hooks** ðŸ”„ **IN PROGRESS**"
    );
}

// Seed 003 asks for `<!-- Completed: 2025-01-15 -->` notes (line 297).
#[test]
fn done_adds_the_completion_note_where_the_document_asks_for_one() {
    let doc = parse(S003);
    let new = set_status(
        &doc,
        "week-1-2-ci-cd-pipeline-quick/set-up-ci-cd-pipeline",
        Status::Done,
        "2026-11-22",
    )
    .unwrap();
    let line = String::from_utf8(new.split(|c| *c == b'\n').nth(12).unwrap().to_vec()).unwrap();
    assert_eq!(
        line,
        "- [x] **Set up CI/CD Pipeline** <!-- Completed: 2026-11-22 -->"
    );
    let reopened = set_status(
        &parse(&new),
        "week-1-2-ci-cd-pipeline-quick/set-up-ci-cd-pipeline",
        Status::Todo,
        "2026-11-22",
    )
    .unwrap();
    assert_eq!(reopened, S003);
}

// A heading task's ballot box and its Status line both change, in Windows-1254 mojibake.
#[test]
fn done_on_a_heading_task_updates_its_box_and_status_line() {
    let doc = parse(S002);
    let new = set_status(&doc, "CORE-001", Status::Done, "2026-11-22").unwrap();
    assert_eq!(changed_lines(S002, &new), [37, 41]);
    let again = parse(&new);
    let t = &again.plan.tasks[again.plan.find("CORE-001").unwrap()];
    assert_eq!(t.status, Status::Done);
    assert!(
        lint(&Analysis::new(&again.plan))
            .iter()
            .all(|f| f.code != "status-conflict")
    );
}
