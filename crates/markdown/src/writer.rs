//! Byte-exact write-back of status changes.
//!
//! A change edits only what must change: the checkbox marker, the status words or emoji on
//! the task's line (copied from how the document writes that status elsewhere, mangled
//! encoding included), a `**Status:**` line that belongs to the task, and the
//! `<!-- Completed: date -->` note when the document asks for one. Everything else keeps
//! its bytes.

use std::ops::Range;

use taskman_core::{Status, TaskKind};

use crate::Document;
use crate::mojibake;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditError {
    /// No task has that id.
    UnknownTask(String),
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EditError::UnknownTask(id) => write!(f, "no task with id \"{id}\""),
        }
    }
}

impl std::error::Error for EditError {}

/// The document's bytes with task `id` set to `status`. `today` (`YYYY-MM-DD`) dates a
/// completion note where the document keeps them. Setting the status a task already has
/// returns the bytes unchanged.
pub fn set_status(
    doc: &Document,
    id: &str,
    status: Status,
    today: &str,
) -> Result<Vec<u8>, EditError> {
    let i = doc
        .plan
        .find(id)
        .ok_or_else(|| EditError::UnknownTask(id.to_string()))?;
    let task = &doc.plan.tasks[i];
    let span = &doc.spans[i];
    let bytes = &doc.bytes;
    if task.status == status {
        return Ok(bytes.clone());
    }
    let mut edits: Vec<(Range<usize>, Vec<u8>)> = Vec::new();

    // 1. The checkbox.
    let marker = marker_for(doc, task.kind, status);
    if bytes[span.marker.clone()] != marker[..] {
        edits.push((span.marker.clone(), marker.clone()));
    }

    // 2. Status words/emoji on the line, in the document's own convention. When neither
    // the checkbox nor a Status line can show the new status (in progress in a plain GFM
    // list) and the document has no words for it, standard words say it, or the change
    // would be lost.
    let marker_shows = Status::from_marker(&String::from_utf8_lossy(&marker)) == status
        || status == Status::Todo
        || span.status_line.is_some();
    let words = exemplar(doc, status, |s: &crate::TaskSpan| s.status.clone())
        .or_else(|| (!marker_shows).then(|| encode(doc, status_tag(status))));
    match (&span.status, words) {
        (Some(r), Some(ex)) => edits.push((r.clone(), ex)),
        (Some(r), None) => {
            // No words for the new status: drop the old ones with the space before.
            let mut start = r.start;
            while start > 0 && bytes[start - 1] == b' ' {
                start -= 1;
            }
            // Keep them if they are all the task says: an empty item is no task at all.
            let title_left = bytes[span.marker.end..start]
                .iter()
                .any(|b| !b" ]\t".contains(b));
            if title_left {
                edits.push((start..r.end, Vec::new()));
            } else {
                // Keep the item a task: say the new status instead.
                edits.push((r.clone(), encode(doc, status_tag(status))));
            }
        }
        (None, Some(ex)) if !marker_shows || convention_marks_status(doc, status) => {
            let mut add = b" ".to_vec();
            add.extend(ex);
            edits.push((span.line_end..span.line_end, add));
        }
        _ => {}
    }

    // 3. A `**Status:**` line of the task.
    if let Some(r) = &span.status_line {
        let ex = exemplar(doc, status, |s: &crate::TaskSpan| s.status_line.clone())
            .unwrap_or_else(|| encode(doc, status_words(status)));
        edits.push((r.clone(), ex));
    }

    // 4. The completion note, where the document keeps them.
    let line_text = &bytes[line_start(bytes, span.line_end)..span.line_end];
    let note_at = find(line_text, b"<!-- Completed:").map(|p| line_start(bytes, span.line_end) + p);
    if status == Status::Done && note_at.is_none() && wants_completion_notes(bytes) {
        let note = format!(" <!-- Completed: {today} -->");
        edits.push((span.line_end..span.line_end, note.into_bytes()));
    } else if status != Status::Done
        && let Some(p) = note_at
        && let Some(e) = find(&bytes[p..span.line_end], b"-->")
    {
        let mut start = p;
        while start > 0 && bytes[start - 1] == b' ' {
            start -= 1;
        }
        edits.push((start..p + e + 3, Vec::new()));
    }

    edits.sort_by_key(|(r, _)| (r.start, r.end));
    let mut out = Vec::with_capacity(bytes.len() + 64);
    let mut last = 0;
    for (r, rep) in edits {
        if r.start < last {
            continue;
        }
        out.extend_from_slice(&bytes[last..r.start]);
        out.extend_from_slice(&rep);
        last = r.end;
    }
    out.extend_from_slice(&bytes[last..]);
    Ok(out)
}

fn line_start(bytes: &[u8], pos: usize) -> usize {
    bytes[..pos]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// The marker for a status, as this document writes it.
fn marker_for(doc: &Document, kind: TaskKind, status: Status) -> Vec<u8> {
    let used = |m: &str| {
        doc.plan
            .tasks
            .iter()
            .any(|t| t.kind == kind && t.marker == m)
    };
    if kind == TaskKind::Heading {
        // Copy a heading task's ballot box with this status, else the standard glyph.
        if let Some((j, _)) = doc.plan.tasks.iter().enumerate().find(|(_, t)| {
            t.kind == TaskKind::Heading && (t.status == Status::Done) == (status == Status::Done)
        }) {
            return doc.bytes[doc.spans[j].marker.clone()].to_vec();
        }
        return encode(doc, if status == Status::Done { "☑" } else { "☐" });
    }
    let m = match status {
        Status::Done => {
            let upper = doc.plan.tasks.iter().filter(|t| t.marker == "X").count();
            let lower = doc.plan.tasks.iter().filter(|t| t.marker == "x").count();
            if upper > lower { "X" } else { "x" }
        }
        Status::InProgress if used("/") => "/",
        Status::Cancelled if used("-") => "-",
        Status::Deferred if used(">") => ">",
        _ => " ",
    };
    m.as_bytes().to_vec()
}

/// The bytes another task uses to say `status` (its status words, or its Status line).
fn exemplar(
    doc: &Document,
    status: Status,
    part: impl Fn(&crate::TaskSpan) -> Option<Range<usize>>,
) -> Option<Vec<u8>> {
    doc.plan
        .tasks
        .iter()
        .zip(&doc.spans)
        .filter(|(t, _)| {
            t.status == status
                && t.declared.is_some_and(|d| {
                    d.status() == status || status == Status::Todo && d.status() == Status::Todo
                })
        })
        .find_map(|(_, s)| part(s))
        .map(|r| doc.bytes[r].to_vec())
}

/// Does the document mark this status in words on most task lines that have it?
fn convention_marks_status(doc: &Document, status: Status) -> bool {
    let with: Vec<_> = doc
        .plan
        .tasks
        .iter()
        .zip(&doc.spans)
        .filter(|(t, _)| t.status == status)
        .collect();
    let marked = with.iter().filter(|(_, s)| s.status.is_some()).count();
    !with.is_empty() && marked * 2 > with.len()
}

fn wants_completion_notes(bytes: &[u8]) -> bool {
    find(bytes, b"<!-- Completed:").is_some()
}

/// Words for a status on a task line when the document has no convention of its own.
fn status_tag(status: Status) -> &'static str {
    match status {
        Status::Todo => "**TODO**",
        Status::InProgress => "🔄 **IN PROGRESS**",
        Status::Blocked => "⏸️ **BLOCKED**",
        Status::Deferred => "**DEFERRED**",
        Status::Done => "✅ **DONE**",
        Status::Cancelled => "**CANCELLED**",
    }
}

fn status_words(status: Status) -> &'static str {
    match status {
        Status::Todo => "❌ Not Started",
        Status::InProgress => "🔄 In Progress",
        Status::Blocked => "⏸️ Blocked",
        Status::Deferred => "⏸️ Deferred",
        Status::Done => "✅ Completed",
        Status::Cancelled => "🚫 Cancelled",
    }
}

/// Text in the document's encoding: mangled the same way when the document is.
fn encode(doc: &Document, s: &str) -> Vec<u8> {
    match doc.codepage {
        Some(cp) => mojibake::mangle(s, cp, true).into_bytes(),
        None => s.as_bytes().to_vec(),
    }
}
