//! A large plan generated the way the real seeds (`tests/fixtures/seeds`) are written:
//! phases and weeks as headings, `Step n` checkbox items with status words and emoji
//! (about 30% done), nested subtasks, `Dependencies:` and `**Owner:** | **Effort:** |
//! **Priority:**` child bullets, fenced code blocks and an `**Overall Progress**` line.
//! Deterministic (xorshift, fixed seed), with exactly `n` tasks. Shared by the benchmarks
//! of the markdown and store crates.

use std::fmt::Write as _;

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `pct`%.
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const VERBS: &[&str] = &[
    "Add",
    "Implement",
    "Configure",
    "Create",
    "Fix",
    "Refactor",
    "Document",
    "Migrate",
    "Optimize",
    "Set Up",
    "Validate",
    "Deploy",
    "Monitor",
    "Review",
    "Automate",
    "Harden",
];
const NOUNS: &[&str] = &[
    "Rate Limiting",
    "Security Headers",
    "Request Validation",
    "Test Coverage",
    "CI Pipeline",
    "Load Tests",
    "Connection Pooling",
    "Response Caching",
    "Health Checks",
    "Error Alerting",
    "Audit Trail",
    "Data Export",
    "Retry Logic",
    "Job Queue",
    "Feature Flags",
    "API Versioning",
    "Circuit Breakers",
    "Backup Automation",
    "Log Rotation",
    "Runbook Library",
    "Metrics",
    "Dashboards",
    "Search Index",
    "Webhooks",
    "Session Store",
    "Schema Migrations",
];
const QUALIFIERS: &[&str] = &[
    "for API",
    "in Worker",
    "(Prometheus + Grafana)",
    "for Frontend Bundle",
    "on Staging",
    "with Redis",
    "for PostgreSQL",
    "per Endpoint",
    "across Services",
    "",
    "",
    "",
    "",
];
const SUBTASKS: &[&str] = &[
    "Write unit tests",
    "Add `structlog` to `pyproject.toml` dependencies",
    "Configure thresholds per environment (DEBUG dev, INFO prod)",
    "Update `TaskService` with structured logs",
    "Create dashboard panel",
    "Document the rollout in the runbook",
    "Verify on staging",
    "Add integration test for the happy path",
    "Review with security team",
    "Measure latency before and after (p50, p95, p99)",
    "Remove the feature flag after rollout",
    "Add `.gitignore` entry for `logs/` directory",
];
const OWNERS: &[&str] = &[
    "Backend",
    "Frontend",
    "DevOps",
    "QA",
    "Security + Backend",
    "Data Engineer",
];
const EFFORTS: &[&str] = &[
    "2 hours", "4 hours", "1 day", "2 days", "3 days", "1 week", "2 weeks", "1-2 days",
];
const PRIORITIES: &[&str] = &["P0", "P1", "P1", "P2", "P2", "P3"];
const PHASE_NAMES: &[&str] = &[
    "Foundation",
    "Production Readiness",
    "Observability & Monitoring",
    "Data & Compliance",
    "Architecture Improvements",
    "Core Business Features",
    "Scale & Performance",
    "Polish",
];
const CODE: &[&str] = &[
    "```bash\npytest --cov=src --cov-fail-under=70\nruff check src tests\n```\n",
    "```yaml\nrate_limit:\n  default: 100/minute\n  write: 20/minute\n```\n",
    "```python\n@app.get(\"/health/ready\")\nasync def ready():\n    return {\"status\": \"ok\"}\n```\n",
    "```sql\nCREATE INDEX CONCURRENTLY idx_tasks_status ON tasks (status);\n```\n",
];

fn title(rng: &mut Rng) -> String {
    let q = rng.pick(QUALIFIERS);
    let mut s = format!("{} {}", rng.pick(VERBS), rng.pick(NOUNS));
    if !q.is_empty() {
        s.push(' ');
        s.push_str(q);
    }
    s
}

/// Markdown text of a realistic plan with exactly `n` tasks (checkbox items at any depth).
/// Deterministic: the same `n` always gives the same bytes.
pub fn plan_text(n: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let mut body = String::with_capacity(n * 110);
    let mut tasks = 0usize; // checkbox items written
    let mut step = 0usize; // top-level steps written
    let mut step_done: Vec<bool> = vec![false]; // index = step number
    let mut all_done = 0usize; // checkbox items ticked, at any depth
    let mut phase = 0usize;
    let mut week = 1usize;

    'outer: while tasks < n {
        phase += 1;
        let _ = writeln!(
            body,
            "## Phase {phase}: {} (Steps {}+)\n",
            PHASE_NAMES[(phase - 1) % PHASE_NAMES.len()],
            step + 1
        );
        let weeks = 3 + rng.below(4);
        for _ in 0..weeks {
            let span = 1 + rng.below(2);
            let _ = writeln!(
                body,
                "### Week {week}-{}: {}\n",
                week + span,
                rng.pick(NOUNS)
            );
            week += span;
            let steps = 8 + rng.below(13);
            for _ in 0..steps {
                if tasks >= n {
                    break 'outer;
                }
                step += 1;
                tasks += 1;
                // Done work is mostly at the front of the plan, with a ragged frontier:
                // about 25% of steps, 30% of all tasks (subtasks included) done.
                let frac = tasks as f64 / n as f64;
                let done = frac < 0.17 || (frac < 0.37 && rng.chance(40));
                let wip = !done && frac < 0.5 && rng.chance(8);
                step_done.push(done);
                let t = title(&mut rng);
                if done {
                    all_done += 1;
                    let _ = writeln!(body, "- [x] Step {step}: {t} ✅ **COMPLETED**");
                } else if wip {
                    let _ = writeln!(body, "- [ ] **Step {step}: {t}** 🔄 **IN PROGRESS**");
                } else if rng.chance(50) {
                    let _ = writeln!(body, "- [ ] **Step {step}: {t}** 📋 **NEXT**");
                } else {
                    let _ = writeln!(body, "- [ ] Step {step}: {t}");
                }

                // Subtasks: none for ~40% of steps, otherwise 1-5.
                let subs = if rng.chance(40) { 0 } else { 1 + rng.below(5) };
                for _ in 0..subs {
                    if tasks >= n {
                        break;
                    }
                    tasks += 1;
                    let sub_done = done || rng.chance(10);
                    let mark = if sub_done { 'x' } else { ' ' };
                    all_done += usize::from(sub_done);
                    let _ = writeln!(body, "  - [{mark}] {}", rng.pick(SUBTASKS));
                    // A few sub-subtasks.
                    if rng.chance(10) && tasks < n {
                        tasks += 1;
                        all_done += usize::from(sub_done);
                        let _ = writeln!(body, "    - [{mark}] {}", rng.pick(SUBTASKS));
                    }
                }

                // Metadata bullets.
                if rng.chance(30) {
                    let _ = writeln!(body, "  - Action: {}", rng.pick(SUBTASKS));
                }
                if step > 1 && rng.chance(60) {
                    // Mostly the previous few steps, sometimes something far back.
                    let back = if rng.chance(85) {
                        1 + rng.below(5.min(step - 1))
                    } else {
                        1 + rng.below(step - 1)
                    };
                    let m = step - back;
                    if m > 1 && rng.chance(20) {
                        let k = 1 + rng.below(m - 1);
                        let _ = writeln!(body, "  - Dependencies: Step {m}, Step {k}");
                    } else {
                        let tick = if step_done[m] { " ✅" } else { "" };
                        let _ = writeln!(body, "  - Dependencies: Step {m}{tick}");
                    }
                } else if rng.chance(20) {
                    let _ = writeln!(body, "  - Dependencies: None");
                }
                if rng.chance(45) {
                    let _ = writeln!(
                        body,
                        "  - **Owner:** {} | **Effort:** {} | **Priority:** {}",
                        rng.pick(OWNERS),
                        rng.pick(EFFORTS),
                        rng.pick(PRIORITIES)
                    );
                }
                if rng.chance(3) {
                    body.push('\n');
                    body.push_str(CODE[rng.below(CODE.len())]);
                    body.push('\n');
                }
            }
            body.push('\n');
        }
        body.push_str("---\n\n");
    }

    // Counted the way `taskman` counts: every checkbox at every depth.
    let pct = if n == 0 {
        0.0
    } else {
        all_done as f64 * 100.0 / n as f64
    };
    let mut out = String::with_capacity(body.len() + 512);
    let _ = writeln!(out, "# Generated Plan: {n} Tasks\n");
    let _ = writeln!(
        out,
        "**Overall Progress**: {all_done}/{n} steps ({pct:.1}%)  "
    );
    let _ = writeln!(out, "**Last Updated**: 2025-12-25\n\n---\n");
    out.push_str(&body);
    out
}
