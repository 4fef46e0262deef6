//! Passes after the block walk: metadata lines, claims, section dependencies, code blocks
//! and stable ids. They need the whole section tree and task list, so they run last.

use std::collections::{HashMap, HashSet};

use taskman_core::ids::{normalize, slug};
use taskman_core::plan::words;
use taskman_core::{
    Claim, Declared, Effort, Field, Plan, Priority, SectionDep, Status, StatusItem,
};

use crate::TaskSpan;
use crate::claims;
use crate::inline::{self, IdStrength, Label};
use crate::reader::{CodeBlock, Run};
use crate::source::Source;

/// Read metadata, claims and section dependencies from the document's prose, and claims
/// from its code blocks.
pub(crate) fn apply_runs(
    src: &Source,
    runs: &[Run],
    code: &[CodeBlock],
    plan: &mut Plan,
    spans: &mut [TaskSpan],
) {
    // Labels with no value (`**Validation Command:**`) name the code block that follows.
    let mut pending: Vec<(usize, usize, String)> = Vec::new();
    for run in runs {
        let first = src.line_of(run.range.start);
        let last = src.line_of(run.range.end.saturating_sub(1).max(run.range.start));
        for l in first..=last {
            let lr = src.line_range(l);
            let start = if l == first {
                run.range.start.max(lr.start)
            } else {
                lr.start
            };
            let text = &src.text[start.min(lr.end)..lr.end];
            let title_line = run.task_item_first && l == first;
            for (scope, kind) in claims::scan_line(text, false) {
                plan.claims.push(Claim {
                    line: l,
                    text: text.trim().to_string(),
                    scope,
                    section: run.section,
                    kind,
                });
            }
            if run.plain_item_first && l == first {
                if let Some(kind) = claims::scan_status_line(text) {
                    plan.claims.push(Claim {
                        line: l,
                        text: text.trim().to_string(),
                        scope: String::new(),
                        section: run.section,
                        kind,
                    });
                }
                status_item(text, l, plan);
            }
            section_dependency(text, l, plan);
            if title_line {
                continue;
            }
            let Some(owner) = run.owner else { continue };
            let value_base = start;
            for lv in inline::label_values(text) {
                if lv.value.is_empty() {
                    pending.push((run.range.end, owner, lv.label.clone()));
                    continue;
                }
                apply_label(plan, spans, owner, &lv, l, src, text, value_base);
            }
        }
    }
    for c in code {
        let heading = c
            .section
            .map(|s| plan.sections[s].title.clone())
            .unwrap_or_default();
        let content = &src.text[c.content.clone()];
        let base = src.line_of(c.content.start);
        for (k, kind) in claims::scan_code(content, &heading) {
            plan.claims.push(Claim {
                line: base + k as u32,
                text: content.lines().nth(k).unwrap_or("").trim().to_string(),
                scope: String::new(),
                section: c.section,
                kind,
            });
        }
        // `**Validation Command:**` then the block: a field of the task.
        if let Some((_, owner, label)) = pending.iter().rev().find(|(end, _, _)| {
            *end <= c.range.start && src.text[*end..c.range.start].trim().is_empty()
        }) {
            plan.tasks[*owner].fields.push(Field {
                name: label.clone(),
                value: content.trim_end().to_string(),
                line: base,
            });
        }
    }
    plan.claims.sort_by_key(|c| c.line);
}

#[allow(clippy::too_many_arguments)]
fn apply_label(
    plan: &mut Plan,
    spans: &mut [TaskSpan],
    owner: usize,
    lv: &inline::LabelValue,
    line: u32,
    src: &Source,
    text: &str,
    text_start: usize,
) {
    let t = &mut plan.tasks[owner];
    match inline::label_kind(&lv.label) {
        Label::Dependencies => {
            t.depends_on.extend(inline::parse_deps(&lv.value));
            t.deps_line = Some(line);
        }
        Label::Owner => {
            t.owner
                .get_or_insert_with(|| lv.value.trim_matches(['*', '_', '`']).trim().to_string());
        }
        Label::Effort => {
            if let Some(e) = Effort::parse(&lv.value) {
                t.effort.get_or_insert(e);
            }
        }
        Label::Priority => {
            if let Some(p) = Priority::parse(&lv.value) {
                t.priority.get_or_insert(p);
            }
        }
        Label::Status => {
            if let Some(d) = status_value(&lv.value) {
                t.declared = Some(d);
                let from_marker = Status::from_marker(&t.marker);
                let from_marker = if t.kind == taskman_core::TaskKind::Heading {
                    if t.marker == " " || ["☐", "⬜", "🔲", "[ ]"].contains(&t.marker.as_str())
                    {
                        Status::Todo
                    } else {
                        Status::Done
                    }
                } else {
                    from_marker
                };
                t.status = if from_marker != Status::Todo {
                    from_marker
                } else {
                    match d.status() {
                        Status::Done => Status::Todo,
                        s => s,
                    }
                };
                // The value's bytes, for write-back.
                if let Some(p) = text.find(lv.value.as_str()) {
                    let r = text_start + p..text_start + p + lv.value.len();
                    spans[owner].status_line = Some(src.to_orig_range(&r));
                }
            }
        }
        Label::Due => {
            if let Some(d) = inline::first_date(&lv.value) {
                t.due.get_or_insert(d);
            }
        }
        Label::Tags => {
            t.tags.extend(
                lv.value
                    .split([',', ' '])
                    .map(|s| s.trim().trim_start_matches('#').to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
        Label::Other => t.fields.push(Field {
            name: lv.label.clone(),
            value: lv.value.clone(),
            line,
        }),
    }
}

/// `✅ COMPLETED - 2026-02-14`, `❌ Not Started`, `🔵 Planned`, `todo`.
fn status_value(v: &str) -> Option<Declared> {
    let mut emoji = None;
    let mut rest = v.trim();
    while let Some(first) = rest.split_whitespace().next() {
        match Declared::from_emoji(first) {
            Some(d) => {
                emoji.get_or_insert(d);
                rest = rest[first.len()..].trim_start();
            }
            None if !first.chars().next().is_some_and(char::is_alphanumeric) => {
                rest = rest[first.len()..].trim_start();
            }
            None => break,
        }
    }
    let head = rest
        .split([' ', '-', '(', ',', '—', '|'])
        .next()
        .unwrap_or("");
    let two: String = rest
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    Declared::from_words(&two)
        .or_else(|| Declared::from_words(head))
        .or(emoji)
}

/// `- ✅ Phase 0.1: Foundation (Complete)`: a status without a checkbox.
fn status_item(text: &str, line: u32, plan: &mut Plan) {
    let t = text.trim_start();
    let Some(first) = t.split_whitespace().next() else {
        return;
    };
    if let Some(d) = Declared::from_emoji(first) {
        let (title, _) = inline::clean_markup(&t[first.len()..]);
        plan.status_items.push(StatusItem {
            title: title.trim().to_string(),
            declared: d,
            line,
        });
    }
}

/// `Phase 2 depends on Phase 1 (...)`: every task of one section waits for the other's.
fn section_dependency(text: &str, line: u32, plan: &mut Plan) {
    let lower = text.to_lowercase();
    let Some(p) = lower.find(" depends on ") else {
        return;
    };
    let left = claims::plain(&text[..p]);
    let left = left.trim_start_matches(|c: char| !c.is_alphanumeric());
    let right = &text[p + " depends on ".len()..];
    let right = right
        .split(['(', ',', ';', ':'])
        .next()
        .unwrap_or(right)
        .trim();
    let right = right.trim_end_matches(|c: char| !c.is_alphanumeric());
    let section_word = |s: &str| {
        words(s).first().is_some_and(|w| {
            matches!(
                w.as_str(),
                "phase"
                    | "week"
                    | "weeks"
                    | "month"
                    | "sprint"
                    | "stage"
                    | "milestone"
                    | "part"
                    | "tier"
                    | "epic"
                    | "section"
            )
        })
    };
    if !(section_word(left) && section_word(right)) {
        return;
    }
    if let (Some(d), Some(q)) = (plan.find_section(left), plan.find_section(right))
        && d != q
    {
        plan.section_deps.push(SectionDep {
            dependent: d,
            prerequisite: q,
            line,
        });
    }
}

/// Give every task a stable, unique id. Ids written in the document are kept; a repeated
/// strong id whose title matches the first is a mirror (a timeline entry for the same
/// task); a repeated weak id (`Step 1` under every Task) is scoped by its section; other
/// tasks get `section/title` slugs.
pub(crate) fn assign_ids(plan: &mut Plan, strength: &[Option<IdStrength>]) {
    let mut used: HashSet<String> = HashSet::with_capacity(plan.tasks.len());
    // Next suffix to try per base, so n tasks sharing a base cost O(n), not O(n²).
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut first_title: HashMap<String, usize> = HashMap::new();
    let n = plan.tasks.len();
    let mut needs_slug = vec![false; n];
    for i in 0..n {
        if !plan.tasks[i].explicit_id {
            needs_slug[i] = true;
            continue;
        }
        let key = normalize(&plan.tasks[i].id);
        match first_title.get(&key) {
            None => {
                first_title.insert(key.clone(), i);
                used.insert(key);
            }
            Some(&j) => {
                let strong = strength[i] == Some(IdStrength::Strong);
                if strong && same_task(&plan.tasks[j].title, &plan.tasks[i].title) {
                    plan.tasks[i].mirror_of = Some(plan.tasks[j].id.clone());
                    plan.tasks[i].explicit_id = false;
                    needs_slug[i] = true;
                } else if !strong {
                    let ctx = context(plan, i);
                    let base = format!("{}/{}", ctx, plan.tasks[i].id);
                    plan.tasks[i].id = unique(&mut used, &mut next_suffix, &base, "#");
                } else {
                    // A repeated strong id with another title: still addressable as
                    // `ID#2`, and lint reports the duplicate.
                    let base = plan.tasks[i].id.clone();
                    plan.tasks[i].id = unique(&mut used, &mut next_suffix, &base, "#");
                }
            }
        }
    }
    #[allow(clippy::needless_range_loop)] // `i` indexes both `needs_slug` and the tasks
    for i in 0..n {
        if !needs_slug[i] {
            continue;
        }
        let ctx = context(plan, i);
        let title = slug(&plan.tasks[i].title, 48);
        let title = if title.is_empty() {
            "task".to_string()
        } else {
            title
        };
        let base = if ctx.is_empty() {
            title
        } else {
            format!("{ctx}/{title}")
        };
        plan.tasks[i].id = unique(&mut used, &mut next_suffix, &base, "-");
    }
}

/// `base` if unused, else `base{sep}2`, `base{sep}3`, ..., resuming where the last search
/// for this base stopped.
fn unique(
    used: &mut HashSet<String>,
    next_suffix: &mut HashMap<String, usize>,
    base: &str,
    sep: &str,
) -> String {
    let norm = normalize(base);
    let mut k = match next_suffix.get(&norm) {
        Some(&k) => k,
        None if used.insert(norm.clone()) => {
            next_suffix.insert(norm, 2);
            return base.to_string();
        }
        None => 2,
    };
    loop {
        let id = format!("{base}{sep}{k}");
        k += 1;
        if used.insert(normalize(&id)) {
            next_suffix.insert(norm, k);
            return id;
        }
    }
}

/// The id prefix for a task: its parent's explicit id, or its section's heading-task id,
/// or a slug of its section title.
fn context(plan: &Plan, i: usize) -> String {
    let t = &plan.tasks[i];
    if let Some(p) = t.parent
        && plan.tasks[p].explicit_id
    {
        return plan.tasks[p].id.clone();
    }
    match t.section {
        Some(s) => match plan.sections[s].task {
            Some(ht) if ht != i && plan.tasks[ht].explicit_id => plan.tasks[ht].id.clone(),
            _ => slug(&plan.sections[s].title, 32),
        },
        None => String::new(),
    }
}

/// Two titles name the same task when the words of one are all in the other
/// (`Input Validation` and `Comprehensive Input Validation`).
fn same_task(a: &str, b: &str) -> bool {
    let wa: HashSet<String> = words(a).into_iter().collect();
    let wb: HashSet<String> = words(b).into_iter().collect();
    !wa.is_empty() && !wb.is_empty() && (wa.is_subset(&wb) || wb.is_subset(&wa))
}

#[cfg(test)]
mod tests {
    #[test]
    fn many_tasks_with_the_same_title_get_distinct_ids_in_order() {
        let mut text = String::from("## Work\n");
        for i in 0..300 {
            text.push_str(&format!("- [ ] Module {i}\n  - [ ] Write unit tests\n"));
        }
        let doc = crate::parse(text.as_bytes());
        let ids: Vec<&str> = doc
            .plan
            .tasks
            .iter()
            .filter(|t| t.title == "Write unit tests")
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(ids.len(), 300);
        assert_eq!(ids[0], "work/write-unit-tests");
        assert_eq!(ids[1], "work/write-unit-tests-2");
        assert_eq!(ids[299], "work/write-unit-tests-300");
    }
}
