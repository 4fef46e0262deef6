//! Output of the read commands: aligned tables for people (colour only on a terminal,
//! `NO_COLOR` honoured) and JSON for programs (schema in docs/cli-json.md).

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};
use taskman_core::analysis::Blocked;
use taskman_core::{Analysis, Finding, Severity, Status};
use taskman_markdown::Diagnostic;

pub struct Out {
    w: std::io::BufWriter<std::io::Stdout>,
    color: bool,
}

impl Out {
    pub fn stdout() -> Out {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out {
            w: std::io::BufWriter::new(std::io::stdout()),
            color,
        }
    }

    pub fn line(&mut self, s: &str) -> Result<()> {
        writeln!(self.w, "{s}")?;
        self.w.flush()?;
        Ok(())
    }

    pub fn write_bytes(&mut self, b: &[u8]) -> Result<()> {
        self.w.write_all(b)?;
        self.w.flush()?;
        Ok(())
    }

    pub fn json(&mut self, v: &Value) -> Result<()> {
        serde_json::to_writer_pretty(&mut self.w, v)?;
        writeln!(self.w)?;
        self.w.flush()?;
        Ok(())
    }

    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width + total / 2)
        .checked_div(total)
        .unwrap_or(0)
        .min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

fn pct(p: f64) -> String {
    format!("{p:.1}%")
}

/// Pad to a display width (counting characters, which is right for the scripts plans use
/// in titles often enough; wide CJK characters take two columns and are counted so).
fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    if w >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - w))
    }
}

fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1FAFF => 2,
            0x0300..=0x036F | 0x200B..=0x200F | 0xFE00..=0xFE0F => 0,
            _ => 1,
        })
        .sum()
}

fn truncate(s: &str, max: usize) -> String {
    if display_width(s) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = display_width(&c.to_string());
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

pub fn task_json(a: &Analysis, i: usize) -> Value {
    let plan = a.plan;
    let t = &plan.tasks[i];
    json!({
        "id": t.id,
        "title": t.title,
        "status": t.status.as_str(),
        "line": t.line,
        "kind": t.kind,
        "declared": t.declared.map(|d| d.as_str()),
        "section": t.section.map(|s| plan.sections[s].title.clone()),
        "parent": t.parent.map(|p| plan.tasks[p].id.clone()),
        "depth": t.depth,
        "priority": a.effective_priority(i).map(|p| p.as_str()),
        "effort_hours": t.effort.map(|e| json!({"min": e.min_hours, "max": e.max_hours})),
        "owner": t.owner,
        "tags": t.tags,
        "depends_on": a.direct[i].iter().map(|&d| plan.tasks[d].id.clone()).collect::<Vec<_>>(),
        "due": t.due,
        "start": t.start,
        "scheduled": t.scheduled,
        "completed": t.completed,
        "mirror_of": t.mirror_of,
        "fields": t.fields.iter().map(|f| json!({"name": f.name, "value": f.value, "line": f.line})).collect::<Vec<_>>(),
    })
}

pub fn status(out: &mut Out, a: &Analysis, as_json: bool) -> Result<()> {
    let p = a.progress();
    let sections = a.section_progress();
    if as_json {
        return out.json(&json!({
            "title": a.plan.title,
            "total": p.total,
            "done": p.done,
            "in_progress": p.in_progress,
            "cancelled": p.cancelled,
            "percent": p.percent,
            "sections": sections.iter().map(|s| json!({
                "title": s.title, "line": s.line, "level": s.level,
                "total": s.total, "done": s.done, "in_progress": s.in_progress, "percent": s.percent,
            })).collect::<Vec<_>>(),
        }));
    }
    let title = a.plan.title.clone().unwrap_or_else(|| "Plan".into());
    out.line(&out.paint("1", &title))?;
    out.line(&format!(
        "{} {:>6}  {}/{} done, {} in progress",
        bar(p.done, p.total, 30),
        pct(p.percent),
        p.done,
        p.total,
        p.in_progress
    ))?;
    out.line("")?;
    let min_level = sections.iter().map(|s| s.level).min().unwrap_or(1);
    let rows: Vec<(String, &taskman_core::analysis::SectionProgress)> = sections
        .iter()
        .map(|s| {
            (
                format!(
                    "{}{}",
                    "  ".repeat((s.level - min_level) as usize),
                    truncate(&s.title, 56)
                ),
                s,
            )
        })
        .collect();
    let width = rows
        .iter()
        .map(|(t, _)| display_width(t))
        .max()
        .unwrap_or(7)
        .max(7);
    out.line(&format!(
        "{}  {:>5}  {:>9}  {:<20}  {:>6}",
        pad("SECTION", width),
        "LINE",
        "DONE",
        "PROGRESS",
        "%"
    ))?;
    for (t, s) in rows {
        let done = format!("{}/{}", s.done, s.total);
        let b = bar(s.done, s.total, 20);
        let b = if s.done == s.total {
            out.paint("32", &b)
        } else {
            b
        };
        out.line(&format!(
            "{}  {:>5}  {:>9}  {}  {:>6}",
            pad(&t, width),
            s.line,
            done,
            b,
            pct(s.percent)
        ))?;
    }
    Ok(())
}

fn task_table(
    out: &mut Out,
    a: &Analysis,
    rows: &[(usize, String)],
    extra_header: &str,
) -> Result<()> {
    let plan = a.plan;
    let idw = rows
        .iter()
        .map(|(i, _)| display_width(&truncate(&plan.tasks[*i].id, 40)))
        .max()
        .unwrap_or(2)
        .max(2);
    let header = format!(
        "{}  {:>5}  {:<11}  {:<8}  {:<50}  {}",
        pad("ID", idw),
        "LINE",
        "STATUS",
        "PRIORITY",
        "TITLE",
        extra_header
    );
    out.line(header.trim_end())?;
    for (i, extra) in rows {
        let t = &plan.tasks[*i];
        let st = t.status.as_str();
        let st_p = match t.status {
            Status::InProgress => out.paint("33", &format!("{st:<11}")),
            Status::Blocked => out.paint("31", &format!("{st:<11}")),
            _ => format!("{st:<11}"),
        };
        let line = format!(
            "{}  {:>5}  {}  {:<8}  {}  {}",
            pad(&truncate(&t.id, 40), idw),
            t.line,
            st_p,
            a.effective_priority(*i).map_or("-", |p| p.as_str()),
            pad(&truncate(&t.title, 50), 50),
            extra
        );
        out.line(line.trim_end())?;
    }
    Ok(())
}

pub fn next(out: &mut Out, a: &Analysis, as_json: bool) -> Result<()> {
    let ready = a.ready();
    if as_json {
        return out.json(&Value::Array(
            ready.iter().map(|&i| task_json(a, i)).collect(),
        ));
    }
    if ready.is_empty() {
        return out.line("Nothing is ready: every open task waits on another.");
    }
    let rows: Vec<(usize, String)> = ready.iter().map(|&i| (i, String::new())).collect();
    task_table(out, a, &rows, "")?;
    out.line(&format!("\n{} tasks ready", ready.len()))
}

pub fn blocked(out: &mut Out, a: &Analysis, as_json: bool) -> Result<()> {
    let blocked: Vec<Blocked> = a.blocked();
    let plan = a.plan;
    if as_json {
        return out.json(&Value::Array(
            blocked
                .iter()
                .map(|b| {
                    let mut v = task_json(a, b.task);
                    v["blocked_by"] = json!(
                        b.blocked_by
                            .iter()
                            .map(|&d| plan.tasks[d].id.clone())
                            .collect::<Vec<_>>()
                    );
                    v
                })
                .collect(),
        ));
    }
    if blocked.is_empty() {
        return out.line("Nothing is blocked.");
    }
    let rows: Vec<(usize, String)> = blocked
        .iter()
        .map(|b| {
            let mut ids: Vec<String> = b
                .blocked_by
                .iter()
                .take(4)
                .map(|&d| plan.tasks[d].id.clone())
                .collect();
            if b.blocked_by.len() > 4 {
                ids.push(format!("+{} more", b.blocked_by.len() - 4));
            }
            if b.blocked_by.is_empty() {
                ids.push("(marked blocked)".into());
            }
            (b.task, ids.join(", "))
        })
        .collect();
    task_table(out, a, &rows, "WAITS ON")?;
    out.line(&format!("\n{} tasks blocked", blocked.len()))
}

fn hours(h: f64) -> String {
    if (h - h.round()).abs() < 1e-9 {
        format!("{} h", h as i64)
    } else {
        format!("{h:.1} h")
    }
}

pub fn critical_path(out: &mut Out, a: &Analysis, as_json: bool) -> Result<()> {
    let s = a.schedule();
    let plan = a.plan;
    if as_json {
        let entry = |i: usize| s.entries.iter().find(|e| e.task == i);
        return out.json(&json!({
            "path": s.path.iter().map(|&i| {
                let mut v = task_json(a, i);
                if let Some(e) = entry(i) {
                    v["hours"] = json!(e.hours);
                    v["earliest_start"] = json!(e.earliest_start);
                    v["earliest_finish"] = json!(e.earliest_finish);
                    v["slack"] = json!(e.slack);
                }
                v
            }).collect::<Vec<_>>(),
            "duration_hours": s.duration_hours,
            "duration_hours_min": s.duration_hours_min,
            "zero_effort_tasks": s.zero_effort.len(),
            "unscheduled": s.unscheduled.iter().map(|&i| plan.tasks[i].id.clone()).collect::<Vec<_>>(),
        }));
    }
    if s.path.is_empty() {
        return out.line("No open work to schedule.");
    }
    let rows: Vec<(usize, String)> = s
        .path
        .iter()
        .map(|&i| {
            let e = s.entries.iter().find(|e| e.task == i);
            (
                i,
                e.map_or(String::new(), |e| {
                    format!(
                        "{} -> {}",
                        hours(e.earliest_start),
                        hours(e.earliest_finish)
                    )
                }),
            )
        })
        .collect();
    task_table(out, a, &rows, "START -> FINISH")?;
    let range = if (s.duration_hours - s.duration_hours_min).abs() > 1e-9 {
        format!(
            "{} to {}",
            hours(s.duration_hours_min),
            hours(s.duration_hours)
        )
    } else {
        hours(s.duration_hours)
    };
    out.line(&format!(
        "\nduration: {range} ({:.1} weeks of 40 h)",
        s.duration_hours / 40.0
    ))?;
    if !s.zero_effort.is_empty() {
        out.line(&format!(
            "note: {} open tasks have no effort and count as 0 h",
            s.zero_effort.len()
        ))?;
    }
    if !s.unscheduled.is_empty() {
        out.line(&format!(
            "note: {} tasks sit on dependency cycles and are left out (see lint)",
            s.unscheduled.len()
        ))?;
    }
    Ok(())
}

pub fn lint(
    out: &mut Out,
    file: &Path,
    findings: &[Finding],
    diags: &[Diagnostic],
    as_json: bool,
) -> Result<()> {
    if as_json {
        return out.json(&serde_json::to_value(findings)?);
    }
    for d in diags {
        out.line(&format!(
            "{}:{}: {} {}",
            file.display(),
            d.line,
            out.paint("36", "note:"),
            d.message
        ))?;
    }
    for f in findings {
        let sev = match f.severity {
            Severity::Error => out.paint("31;1", "error"),
            Severity::Warning => out.paint("33", "warning"),
            Severity::Info => out.paint("36", "info"),
        };
        out.line(&format!(
            "{}:{}: {sev}[{}]: {}",
            file.display(),
            f.line,
            f.code,
            f.message
        ))?;
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    out.line(&format!(
        "{errors} errors, {warnings} warnings, {} notes",
        findings.len() - errors - warnings
    ))
}

pub fn show(out: &mut Out, a: &Analysis, i: usize, as_json: bool) -> Result<()> {
    let mut v = task_json(a, i);
    let open = a.open_deps(i);
    v["blocked_by"] = json!(
        open.iter()
            .map(|&d| a.plan.tasks[d].id.clone())
            .collect::<Vec<_>>()
    );
    if as_json {
        return out.json(&v);
    }
    let t = &a.plan.tasks[i];
    out.line(&format!("{}  {}", out.paint("1", &t.id), t.title))?;
    let obj = v.as_object().cloned().unwrap_or_default();
    for (k, val) in obj {
        if matches!(k.as_str(), "id" | "title") || val.is_null() || val == json!([]) {
            continue;
        }
        let shown = match &val {
            Value::String(s) => s.clone(),
            Value::Array(xs) if xs.iter().all(Value::is_string) => xs
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        out.line(&format!("  {:<12} {shown}", format!("{k}:")))?;
    }
    Ok(())
}

pub fn export_json(out: &mut Out, a: &Analysis) -> Result<()> {
    let p = a.progress();
    out.json(&json!({
        "title": a.plan.title,
        "progress": p,
        "sections": a.plan.sections.iter().map(|s| json!({
            "title": s.title, "level": s.level, "line": s.line,
            "parent": s.parent, "declared": s.declared.map(|d| d.as_str()),
        })).collect::<Vec<_>>(),
        "tasks": (0..a.plan.tasks.len()).map(|i| task_json(a, i)).collect::<Vec<_>>(),
        "claims": a.plan.claims,
    }))
}
