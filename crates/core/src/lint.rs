//! Lint: every place where a document contradicts itself.
//!
//! Each rule compares something the document *says* (a progress line, a READY mark, a
//! drawn critical path, a dependency matrix, a status word) with what its own checkboxes
//! and dependency lines *show*, and reports the difference in words a person can act on.

use std::collections::{BTreeSet, HashMap};

use crate::analysis::percent;
use crate::{Analysis, ClaimKind, Declared, DepRef, Finding, Plan, Priority, Severity, Status};

/// All findings, sorted by line then code.
pub fn lint(a: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    let plan = a.plan;
    checkbox_conflicts(plan, &mut out);
    declared_ready(a, &mut out);
    done_with_open(a, &mut out);
    references(a, &mut out);
    duplicates(plan, &mut out);
    cycles(a, &mut out);
    section_status(a, &mut out);
    mirrors(plan, &mut out);
    claims(a, &mut out);
    schedule_overlap(plan, &mut out);
    out.sort_by(|x, y| (x.line, x.code).cmp(&(y.line, y.code)));
    out
}

fn push(
    out: &mut Vec<Finding>,
    severity: Severity,
    code: &'static str,
    line: u32,
    message: String,
) {
    out.push(Finding {
        severity,
        code,
        message,
        line,
    });
}

fn name(plan: &Plan, i: usize) -> String {
    name_of(&plan.tasks[i])
}

fn short(s: &str) -> String {
    if s.chars().count() <= 60 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(57).collect();
    out.push_str("...");
    out
}

fn names(plan: &Plan, list: &[usize]) -> String {
    const MAX: usize = 5;
    let mut parts: Vec<String> = list.iter().take(MAX).map(|&i| name(plan, i)).collect();
    if list.len() > MAX {
        parts.push(format!("and {} more", list.len() - MAX));
    }
    parts.join(", ")
}

fn status_words(s: Status) -> &'static str {
    match s {
        Status::Todo => "not started",
        Status::InProgress => "in progress",
        Status::Blocked => "blocked",
        Status::Deferred => "deferred",
        Status::Done => "done",
        Status::Cancelled => "cancelled",
    }
}

fn checkbox_conflicts(plan: &Plan, out: &mut Vec<Finding>) {
    for t in &plan.tasks {
        let Some(d) = t.declared else { continue };
        let checked = t.status == Status::Done;
        let says_done = d == Declared::Done;
        if checked != says_done && !(t.status == Status::Cancelled && d == Declared::Cancelled) {
            let verdict = if checked { "done" } else { "open" };
            push(
                out,
                Severity::Warning,
                "status-conflict",
                t.line,
                format!(
                    "{} has checkbox [{}] but says {}; the checkbox wins ({verdict})",
                    name_of(t),
                    t.marker,
                    d.as_str()
                ),
            );
        }
    }
}

fn name_of(t: &crate::Task) -> String {
    if t.explicit_id {
        t.id.clone()
    } else {
        format!("\"{}\"", short(&t.title))
    }
}

fn declared_ready(a: &Analysis, out: &mut Vec<Finding>) {
    let plan = a.plan;
    for (i, t) in plan.tasks.iter().enumerate() {
        if let Some(d @ (Declared::Ready | Declared::Next)) = t.declared {
            if t.status.is_closed() {
                continue;
            }
            let open = a.open_deps(i);
            if !open.is_empty() {
                push(
                    out,
                    Severity::Warning,
                    "ready-with-open-deps",
                    t.line,
                    format!(
                        "{} is marked {} but waits on {}, not done yet",
                        name(plan, i),
                        d.as_str(),
                        describe_open(plan, &open)
                    ),
                );
            }
        }
    }
    for c in &plan.claims {
        let ClaimKind::TaskStatus { id, declared } = &c.kind else {
            continue;
        };
        let Some(i) = plan.find(id) else {
            push(
                out,
                Severity::Warning,
                "unknown-reference",
                c.line,
                format!("\"{id}\" is mentioned here but no task has that id"),
            );
            continue;
        };
        let t = &plan.tasks[i];
        match declared {
            Declared::Ready | Declared::Next if !t.status.is_closed() => {
                let open = a.open_deps(i);
                if !open.is_empty() {
                    push(
                        out,
                        Severity::Warning,
                        "ready-with-open-deps",
                        c.line,
                        format!(
                            "{} is listed as {} but waits on {}, not done yet",
                            name(plan, i),
                            declared.as_str(),
                            describe_open(plan, &open)
                        ),
                    );
                }
            }
            Declared::Done if t.status != Status::Done => push(
                out,
                Severity::Error,
                "status-claim-stale",
                c.line,
                format!(
                    "{} is listed as DONE but its checkbox at line {} is {}",
                    name(plan, i),
                    t.line,
                    status_words(t.status)
                ),
            ),
            Declared::InProgress | Declared::Ready | Declared::Next | Declared::NotStarted
                if t.status == Status::Done =>
            {
                push(
                    out,
                    Severity::Error,
                    "status-claim-stale",
                    c.line,
                    format!(
                        "{} is listed as {} but is already done (line {})",
                        name(plan, i),
                        declared.as_str(),
                        t.line
                    ),
                )
            }
            Declared::Blocked if a.open_deps(i).is_empty() && t.status != Status::Blocked => push(
                out,
                Severity::Info,
                "blocked-claim-unsupported",
                c.line,
                format!(
                    "{} is listed as BLOCKED but every dependency it names is done",
                    name(plan, i)
                ),
            ),
            _ => {}
        }
    }
}

fn describe_open(plan: &Plan, open: &[usize]) -> String {
    let parts: Vec<String> = open
        .iter()
        .take(5)
        .map(|&d| format!("{} ({})", name(plan, d), status_words(plan.tasks[d].status)))
        .collect();
    let mut s = parts.join(", ");
    if open.len() > 5 {
        s.push_str(&format!(" and {} more", open.len() - 5));
    }
    s
}

fn done_with_open(a: &Analysis, out: &mut Vec<Finding>) {
    let plan = a.plan;
    for (i, t) in plan.tasks.iter().enumerate() {
        if t.status != Status::Done {
            continue;
        }
        let open: Vec<usize> = a.direct[i]
            .iter()
            .copied()
            .filter(|&d| !plan.tasks[d].status.is_closed())
            .collect();
        if !open.is_empty() {
            push(
                out,
                Severity::Error,
                "done-with-open-deps",
                t.line,
                format!(
                    "{} is done but depends on {}",
                    name(plan, i),
                    describe_open(plan, &open)
                ),
            );
        }
        let children: Vec<usize> = plan
            .tasks
            .iter()
            .enumerate()
            .skip(i + 1)
            .take_while(|(_, c)| c.depth > t.depth || c.parent.is_some_and(|p| p >= i))
            .filter(|(_, c)| c.parent == Some(i) && !c.status.is_closed())
            .map(|(j, _)| j)
            .collect();
        if !children.is_empty() {
            push(
                out,
                Severity::Warning,
                "done-with-open-subtasks",
                t.line,
                format!(
                    "{} is done but {} of its subtasks {} still open: {}",
                    name(plan, i),
                    children.len(),
                    if children.len() == 1 { "is" } else { "are" },
                    names(plan, &children)
                ),
            );
        }
    }
}

fn references(a: &Analysis, out: &mut Vec<Finding>) {
    for (i, r) in &a.unknown {
        let t = &a.plan.tasks[*i];
        push(
            out,
            Severity::Warning,
            "unknown-reference",
            t.deps_line.unwrap_or(t.line),
            format!(
                "{} depends on \"{r}\", but no task has that id",
                name(a.plan, *i)
            ),
        );
    }
}

fn duplicates(plan: &Plan, out: &mut Vec<Finding>) {
    let mut first: HashMap<String, usize> = HashMap::new();
    for (i, t) in plan.tasks.iter().enumerate() {
        if !t.explicit_id || t.mirror_of.is_some() {
            continue;
        }
        // `ID#2` is the reader's name for a second task written with the same id.
        let key = crate::ids::normalize(t.id.split('#').next().unwrap_or(&t.id));
        match first.get(&key) {
            Some(&j) => push(
                out,
                Severity::Error,
                "duplicate-id",
                t.line,
                format!(
                    "id {} is used again here; it already names \"{}\" at line {}",
                    t.id.split('#').next().unwrap_or(&t.id),
                    short(&plan.tasks[j].title),
                    plan.tasks[j].line
                ),
            ),
            None => {
                first.insert(key, i);
            }
        }
    }
}

fn cycles(a: &Analysis, out: &mut Vec<Finding>) {
    for c in &a.cycles {
        let mut walk: Vec<String> = c.iter().map(|&i| name(a.plan, i)).collect();
        walk.push(name(a.plan, c[0]));
        let t = &a.plan.tasks[c[0]];
        push(
            out,
            Severity::Error,
            "dependency-cycle",
            t.deps_line.unwrap_or(t.line),
            format!(
                "dependency cycle: {} (each waits on the next)",
                walk.join(" -> ")
            ),
        );
    }
}

fn section_status(a: &Analysis, out: &mut Vec<Finding>) {
    let plan = a.plan;
    for (s, sec) in plan.sections.iter().enumerate() {
        if sec.task.is_some() {
            continue;
        }
        let Some(d) = sec.declared else { continue };
        let p = a.progress_of(plan.tasks_in_section(s));
        if p.total == 0 {
            continue;
        }
        let closed = p.done + p.cancelled;
        if d == Declared::Done && closed < p.total {
            push(
                out,
                Severity::Warning,
                "section-status-conflict",
                sec.line,
                format!(
                    "section \"{}\" is marked complete but {} of its {} tasks are open",
                    short(&sec.title),
                    p.total - closed,
                    p.total
                ),
            );
        } else if d != Declared::Done && d != Declared::Cancelled && closed == p.total {
            push(
                out,
                Severity::Info,
                "section-status-stale",
                sec.line,
                format!(
                    "section \"{}\" is marked {} but all {} of its tasks are done",
                    short(&sec.title),
                    d.as_str(),
                    p.total
                ),
            );
        }
    }
}

fn mirrors(plan: &Plan, out: &mut Vec<Finding>) {
    for t in &plan.tasks {
        let Some(orig) = &t.mirror_of else { continue };
        let Some(j) = plan.find(orig) else { continue };
        let o = &plan.tasks[j];
        if (t.status == Status::Done) != (o.status == Status::Done) {
            push(
                out,
                Severity::Warning,
                "mirror-status-conflict",
                t.line,
                format!(
                    "this entry for {} is {} but the task itself (line {}) is {}",
                    o.id,
                    status_words(t.status),
                    o.line,
                    status_words(o.status)
                ),
            );
        }
    }
}

/// What a claim's scope words refer to.
enum Scope {
    Plan,
    Section(usize),
    Unknown,
}

fn tokens(s: &str) -> Vec<String> {
    crate::plan::words(s)
}

fn resolve_scope(plan: &Plan, scope: &str, claim_section: Option<usize>, a: &Analysis) -> Scope {
    let meaningful = tokens(scope)
        .into_iter()
        .any(|w| !crate::plan::SCOPE_STOPWORDS.contains(&w.as_str()));
    if !meaningful {
        // "Overall Progress", "Total Tasks": the plan, unless the claim sits in a section
        // of its own tasks (a heading that counts its own items).
        return match claim_section {
            Some(s) if scope.is_empty() && a.progress_of(plan.tasks_in_section(s)).total > 0 => {
                Scope::Section(s)
            }
            _ => Scope::Plan,
        };
    }
    plan.find_section(scope)
        .map_or(Scope::Unknown, Scope::Section)
}

fn scope_tasks(plan: &Plan, scope: &Scope) -> Vec<usize> {
    match scope {
        Scope::Plan => (0..plan.tasks.len()).collect(),
        Scope::Section(s) => plan.tasks_in_section(*s).collect(),
        Scope::Unknown => Vec::new(),
    }
}

fn scope_name(plan: &Plan, scope: &Scope) -> String {
    match scope {
        Scope::Plan => "the plan".to_string(),
        Scope::Section(s) => format!(
            "section \"{}\" (line {})",
            short(&plan.sections[*s].title),
            plan.sections[*s].line
        ),
        Scope::Unknown => "?".to_string(),
    }
}

/// First line of a task's rows in a dependency matrix, and each dependency with its row.
type MatrixRows<'a> = (u32, Vec<(u32, &'a DepRef)>);

fn claims(a: &Analysis, out: &mut Vec<Finding>) {
    let plan = a.plan;
    let mut matrix: HashMap<String, MatrixRows> = HashMap::new();
    for c in &plan.claims {
        match &c.kind {
            ClaimKind::Progress {
                done,
                total,
                percent: pct,
                unit,
            } => progress_claim(a, c, *done, *total, *pct, unit.as_deref(), out),
            ClaimKind::TaskCount { count, priority } => count_claim(a, c, *count, *priority, out),
            ClaimKind::CriticalPath { ids } => critical_path_claim(a, c.line, ids, out),
            ClaimKind::Matrix(m) => {
                let e = matrix
                    .entry(crate::ids::normalize(&m.task))
                    .or_insert((c.line, Vec::new()));
                e.1.extend(m.depends_on.iter().map(|d| (c.line, d)));
            }
            ClaimKind::TaskStatus { .. } => {}
        }
    }
    let mut rows: Vec<_> = matrix.into_iter().collect();
    rows.sort_by_key(|(_, (line, _))| *line);
    for (task, (line, deps)) in rows {
        matrix_row(a, &task, line, &deps, out);
    }
}

#[allow(clippy::too_many_arguments)]
fn progress_claim(
    a: &Analysis,
    c: &crate::Claim,
    done: Option<u32>,
    total: Option<u32>,
    pct: Option<f64>,
    unit: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let plan = a.plan;
    let claimed = describe_claim(done, total, pct, unit);
    // "5 of 8 phases": compare with what the document says about its phases.
    if unit.is_some_and(|u| u.starts_with("phase")) {
        let items: Vec<_> = plan
            .status_items
            .iter()
            .filter(|s| {
                tokens(&s.title)
                    .first()
                    .is_some_and(|w| w.starts_with("phase"))
            })
            .collect();
        if items.is_empty() {
            return;
        }
        let complete = items
            .iter()
            .filter(|s| s.declared == Declared::Done)
            .count();
        let listed = items.len();
        let first = items.iter().map(|s| s.line).min().unwrap_or(c.line);
        let last = items.iter().map(|s| s.line).max().unwrap_or(c.line);
        let mismatch = total.is_some_and(|t| t as usize != listed)
            || done.is_some_and(|d| d as usize != complete)
            || (done.is_none()
                && pct.is_some_and(|p| (p - percent(complete, listed)).abs() >= 1.0));
        if mismatch {
            push(
                out,
                Severity::Error,
                "progress-claim-phases",
                c.line,
                format!(
                    "claims {claimed}, but the phase list at lines {first}-{last} marks {complete} of {listed} phases complete ({}%)",
                    fmt_pct(percent(complete, listed))
                ),
            );
        }
        return;
    }
    let scope = resolve_scope(plan, &c.scope, c.section, a);
    if matches!(scope, Scope::Unknown) {
        push(
            out,
            Severity::Info,
            "claim-scope-unknown",
            c.line,
            format!(
                "cannot tell which part of the plan \"{}\" refers to; claim {claimed} not checked",
                c.scope
            ),
        );
        return;
    }
    let p = a.progress_of(scope_tasks(plan, &scope).into_iter());
    let actual_pct = percent(p.done, p.total);
    let where_ = scope_name(plan, &scope);
    let actual = format!(
        "{} has {} tasks with {} done ({}%)",
        where_,
        p.total,
        p.done,
        fmt_pct(actual_pct)
    );
    if let Some(t) = total
        && t as usize != p.total
    {
        push(
            out,
            Severity::Error,
            "progress-claim-total",
            c.line,
            format!("claims {claimed}, but {actual}"),
        );
        return;
    }
    if let Some(d) = done {
        if d as usize != p.done {
            push(
                out,
                Severity::Error,
                "progress-claim-stale",
                c.line,
                format!("claims {claimed}, but {actual}"),
            );
            return;
        }
        if let (Some(t), Some(pc)) = (total, pct)
            && (pc - percent(d as usize, t as usize)).abs() >= 1.0
        {
            push(
                out,
                Severity::Warning,
                "progress-claim-arithmetic",
                c.line,
                format!(
                    "claims {claimed}, but {d} of {t} is {}%",
                    fmt_pct(percent(d as usize, t as usize))
                ),
            );
        }
        return;
    }
    if let Some(pc) = pct
        && (pc - actual_pct).abs() >= 1.0
    {
        push(
            out,
            Severity::Warning,
            "progress-claim-percent",
            c.line,
            format!("claims {claimed}, but {actual}"),
        );
    }
}

fn fmt_pct(p: f64) -> String {
    if (p - p.round()).abs() < 1e-9 {
        format!("{}", p as i64)
    } else {
        format!("{p:.1}")
    }
}

fn describe_claim(
    done: Option<u32>,
    total: Option<u32>,
    pct: Option<f64>,
    unit: Option<&str>,
) -> String {
    let unit = unit.map(|u| format!(" {u}")).unwrap_or_default();
    match (done, total, pct) {
        (Some(d), Some(t), Some(p)) => format!("{d}/{t}{unit} ({}%)", fmt_pct(p)),
        (Some(d), Some(t), None) => format!("{d}/{t}{unit}"),
        (_, _, Some(p)) => format!("{}%", fmt_pct(p)),
        _ => "progress".to_string(),
    }
}

fn count_claim(
    a: &Analysis,
    c: &crate::Claim,
    count: u32,
    priority: Option<Priority>,
    out: &mut Vec<Finding>,
) {
    let plan = a.plan;
    let scope = resolve_scope(plan, &c.scope, c.section, a);
    if matches!(scope, Scope::Unknown) {
        return;
    }
    let all = scope_tasks(plan, &scope);
    let in_scope: BTreeSet<usize> = all.iter().copied().collect();
    let top: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| plan.tasks[i].mirror_of.is_none())
        .filter(|&i| plan.tasks[i].parent.is_none_or(|p| !in_scope.contains(&p)))
        .collect();
    let where_ = scope_name(plan, &scope);
    let count = count as usize;
    match priority {
        None => {
            if count != top.len() && count != all.len() {
                push(
                    out,
                    Severity::Error,
                    "task-count-claim",
                    c.line,
                    format!(
                        "claims {count} tasks, but {where_} lists {} top-level tasks ({} counting subtasks)",
                        top.len(),
                        all.len()
                    ),
                );
            }
        }
        Some(p) => {
            let with_p = top
                .iter()
                .filter(|&&i| plan.tasks[i].priority == Some(p))
                .count();
            if count != with_p {
                push(
                    out,
                    Severity::Error,
                    "task-count-claim",
                    c.line,
                    format!(
                        "claims {count} {} tasks, but {where_} lists {} tasks, {with_p} of them {}",
                        p.as_str(),
                        top.len(),
                        p.as_str()
                    ),
                );
            }
        }
    }
}

fn critical_path_claim(a: &Analysis, line: u32, ids: &[String], out: &mut Vec<Finding>) {
    let plan = a.plan;
    let mut idx = Vec::new();
    for id in ids {
        match plan.find(id) {
            Some(i) => idx.push(i),
            None => {
                push(
                    out,
                    Severity::Warning,
                    "unknown-reference",
                    line,
                    format!("the critical path names \"{id}\", but no task has that id"),
                );
                return;
            }
        }
    }
    let mut broken = false;
    for w in idx.windows(2) {
        let (from, to) = (w[0], w[1]);
        if !a.direct[to].contains(&from) {
            broken = true;
            let own: Vec<usize> = a.direct[to].clone();
            push(
                out,
                Severity::Error,
                "critical-path-broken",
                line,
                format!(
                    "the critical path goes {} -> {}, but {} does not depend on {} (it depends on {})",
                    plan.tasks[from].id,
                    plan.tasks[to].id,
                    plan.tasks[to].id,
                    plan.tasks[from].id,
                    if own.is_empty() {
                        "nothing".to_string()
                    } else {
                        names(plan, &own)
                    }
                ),
            );
        }
    }
    let s = a.schedule();
    if !s.path.is_empty() && s.path != idx {
        let computed: Vec<&str> = s.path.iter().map(|&i| plan.tasks[i].id.as_str()).collect();
        push(
            out,
            Severity::Info,
            "critical-path-differs",
            line,
            format!(
                "{}from effort and dependencies the critical path is {} ({} h)",
                if broken {
                    ""
                } else {
                    "the drawn path is a chain, but "
                },
                computed.join(" -> "),
                fmt_pct(s.duration_hours)
            ),
        );
    }
}

fn matrix_row(
    a: &Analysis,
    task: &str,
    line: u32,
    deps: &[(u32, &DepRef)],
    out: &mut Vec<Finding>,
) {
    let plan = a.plan;
    let Some(i) = plan.find(task) else {
        push(
            out,
            Severity::Warning,
            "unknown-reference",
            line,
            format!("the dependency matrix names \"{task}\", but no task has that id"),
        );
        return;
    };
    let mut said: BTreeSet<usize> = BTreeSet::new();
    let mut said_at: HashMap<usize, u32> = HashMap::new();
    for (row, d) in deps {
        match d {
            DepRef::Id(id) => match plan.find(id) {
                Some(j) if j != i => {
                    said.insert(j);
                    said_at.entry(j).or_insert(*row);
                }
                Some(_) => {}
                None => push(
                    out,
                    Severity::Warning,
                    "unknown-reference",
                    line,
                    format!("the dependency matrix names \"{id}\", but no task has that id"),
                ),
            },
            DepRef::AllPrevious => {
                for j in crate::analysis::previous_peers(plan, i) {
                    said.insert(j);
                    said_at.entry(j).or_insert(*row);
                }
            }
        }
    }
    // What the task's own Dependencies line says, without section-level rules, which a
    // matrix does not describe.
    let own: BTreeSet<usize> = a.own[i].iter().copied().collect();
    let extra: Vec<usize> = said.difference(&own).copied().collect();
    let missing: Vec<usize> = own.difference(&said).copied().collect();
    if extra.is_empty() && missing.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    if !extra.is_empty() {
        parts.push(format!("the matrix adds {}", names(plan, &extra)));
    }
    if !missing.is_empty() {
        parts.push(format!("the matrix leaves out {}", names(plan, &missing)));
    }
    let line = extra
        .iter()
        .filter_map(|j| said_at.get(j))
        .copied()
        .min()
        .unwrap_or(line);
    let t = &plan.tasks[i];
    let own_line = t
        .deps_line
        .map(|l| format!(" at line {l}"))
        .unwrap_or_default();
    push(
        out,
        Severity::Warning,
        "matrix-disagrees",
        line,
        format!(
            "the dependency matrix disagrees with {}'s own Dependencies{own_line}: {}",
            t.id,
            parts.join("; ")
        ),
    );
}

/// Weeks a section title spans: `Week 3-5`, `Weeks 33-40`, `Week 4`, `Month 7-8` (a month
/// taken as four weeks).
pub fn week_span(title: &str) -> Option<(u32, u32)> {
    let words = tokens(title);
    for (k, w) in words.iter().enumerate() {
        let per = match w.as_str() {
            "week" | "weeks" | "semaine" | "semaines" | "woche" | "wochen" => 1,
            "month" | "months" | "mois" | "monat" | "monate" => 4,
            _ => continue,
        };
        let a: u32 = words.get(k + 1)?.parse().ok()?;
        let b: u32 = words
            .get(k + 2)
            .and_then(|x| x.parse().ok())
            .filter(|&b| b >= a)
            .unwrap_or(a);
        return Some(((a - 1) * per + 1, b * per));
    }
    None
}

fn section_weeks(plan: &Plan, s: usize) -> Option<(u32, u32)> {
    let mut span: Option<(u32, u32)> = None;
    for (i, sec) in plan.sections.iter().enumerate() {
        if i != s && !plan.section_within(i, s) {
            continue;
        }
        // The section's own title counts only when no subsection is more specific.
        if let Some((a, b)) = week_span(&sec.title) {
            if i == s
                && plan.sections.iter().enumerate().any(|(j, _)| {
                    j != s
                        && plan.section_within(j, s)
                        && week_span(&plan.sections[j].title).is_some()
                })
            {
                continue;
            }
            span = Some(span.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
    }
    span
}

fn schedule_overlap(plan: &Plan, out: &mut Vec<Finding>) {
    for sd in &plan.section_deps {
        let (Some(dep), Some(pre)) = (
            section_weeks(plan, sd.dependent),
            section_weeks(plan, sd.prerequisite),
        ) else {
            continue;
        };
        if dep.0 < pre.1 {
            let d = &plan.sections[sd.dependent];
            let p = &plan.sections[sd.prerequisite];
            push(
                out,
                Severity::Warning,
                "schedule-overlap",
                sd.line,
                format!(
                    "\"{}\" depends on \"{}\", yet its weeks start at week {} while \"{}\" runs to week {}",
                    short(&d.title),
                    short(&p.title),
                    dep.0,
                    short(&p.title),
                    pre.1
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Claim, Section, Task};

    fn task(id: &str, status: Status, deps: &[&str]) -> Task {
        crate::plan::test_task(id, status, deps)
    }

    fn codes(p: &Plan) -> Vec<&'static str> {
        lint(&Analysis::new(p))
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn next_item_waiting_on_open_work_is_reported() {
        let mut b = task("B", Status::Todo, &["A"]);
        b.declared = Some(Declared::Next);
        let p = Plan {
            tasks: vec![task("A", Status::InProgress, &[]), b],
            ..Plan::default()
        };
        assert_eq!(codes(&p), ["ready-with-open-deps"]);
    }

    #[test]
    fn done_task_depending_on_open_task_is_an_error() {
        let p = Plan {
            tasks: vec![
                task("A", Status::Todo, &[]),
                task("B", Status::Done, &["A"]),
            ],
            ..Plan::default()
        };
        assert_eq!(codes(&p), ["done-with-open-deps"]);
    }

    #[test]
    fn duplicate_ids_and_cycles_are_errors() {
        let p = Plan {
            tasks: vec![
                task("A", Status::Todo, &["B"]),
                task("B", Status::Todo, &["A"]),
                task("A", Status::Todo, &[]),
            ],
            ..Plan::default()
        };
        let c = codes(&p);
        assert!(
            c.contains(&"duplicate-id") && c.contains(&"dependency-cycle"),
            "{c:?}"
        );
    }

    #[test]
    fn checked_box_with_in_progress_words_is_a_conflict() {
        let mut t = task("A", Status::Done, &[]);
        t.marker = "x".into();
        t.declared = Some(Declared::InProgress);
        let p = Plan {
            tasks: vec![t],
            ..Plan::default()
        };
        assert_eq!(codes(&p), ["status-conflict"]);
    }

    #[test]
    fn progress_claim_with_the_wrong_denominator_is_reported() {
        let tasks = (0..5)
            .map(|i| {
                task(
                    &format!("S{i}"),
                    if i < 2 { Status::Done } else { Status::Todo },
                    &[],
                )
            })
            .collect();
        let claim = |done, total| Claim {
            line: 9,
            text: String::new(),
            scope: "Overall Progress".into(),
            section: None,
            kind: ClaimKind::Progress {
                done: Some(done),
                total: Some(total),
                percent: None,
                unit: None,
            },
        };
        let mut p = Plan {
            tasks,
            claims: vec![claim(2, 4)],
            ..Plan::default()
        };
        assert_eq!(codes(&p), ["progress-claim-total"]);
        p.claims = vec![claim(1, 5)];
        assert_eq!(codes(&p), ["progress-claim-stale"]);
        p.claims = vec![claim(2, 5)];
        assert!(codes(&p).is_empty());
    }

    #[test]
    fn claim_scope_words_find_the_section_they_name() {
        let sec = |title: &str, line| Section {
            title: title.into(),
            level: 3,
            line,
            parent: None,
            task: None,
            declared: None,
        };
        let mut p = Plan {
            sections: vec![
                sec("MONTH 1: Foundation - Week 1: Security (Steps 1-5)", 1),
                sec("MONTH 1: Foundation - Week 2: Testing (Steps 6-10)", 5),
            ],
            tasks: vec![task("A", Status::Done, &[]), task("B", Status::Todo, &[])],
            ..Plan::default()
        };
        p.tasks[0].section = Some(0);
        p.tasks[1].section = Some(1);
        let a = Analysis::new(&p);
        assert!(matches!(
            resolve_scope(&p, "Month 1 Week 2", None, &a),
            Scope::Section(1)
        ));
        assert!(matches!(
            resolve_scope(&p, "Overall Progress", None, &a),
            Scope::Plan
        ));
        assert!(matches!(
            resolve_scope(&p, "Month 3", None, &a),
            Scope::Unknown
        ));
    }

    #[test]
    fn week_spans_are_read_from_titles() {
        assert_eq!(week_span("Week 1-2: CI/CD Pipeline"), Some((1, 2)));
        assert_eq!(week_span("Weeks 33-40"), Some((33, 40)));
        assert_eq!(week_span("Month 7: JavaScript SDK"), Some((25, 28)));
        assert_eq!(week_span("Phase 1: Production Readiness"), None);
    }
}
