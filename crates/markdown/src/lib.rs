//! Markdown plans in and out.
//!
//! [`parse`] turns the bytes of a plan into a [`Document`]: the [`taskman_core::Plan`], the
//! diagnostics met on the way (repaired mojibake, invalid UTF-8) and what the writer needs
//! to edit the original bytes. It never refuses a document. [`set_status`] computes the
//! new bytes for a status change, touching only the bytes that must change. This crate
//! does no IO: callers read and write files.

mod claims;
mod inline;
pub mod mojibake;
mod post;
mod reader;
mod source;
mod text;
mod writer;

use std::ops::Range;

use taskman_core::Plan;

pub use writer::{EditError, set_status};

/// A note about reading the document that is not a contradiction in the plan itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: u32,
    pub message: String,
}

/// Where a task's editable parts sit in the original bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpan {
    /// The checkbox marker between the brackets (or a heading's ballot box).
    pub marker: Range<usize>,
    /// End of the task's first line, before the line ending.
    pub line_end: usize,
    /// Status words and emoji on the task line (`âœ… **COMPLETED**`), if any.
    pub status: Option<Range<usize>>,
    /// The value of a `**Status:**` line that belongs to the task, if any.
    pub status_line: Option<Range<usize>>,
}

/// A parsed plan together with its source bytes.
#[derive(Debug, Clone)]
pub struct Document {
    pub plan: Plan,
    pub diagnostics: Vec<Diagnostic>,
    /// One span per task, in the order of `plan.tasks`.
    pub spans: Vec<TaskSpan>,
    /// The code page the document's mojibake came from, if it has any.
    pub codepage: Option<mojibake::Codepage>,
    /// The original bytes.
    pub bytes: Vec<u8>,
}

/// Read a plan. Never fails: odd input yields diagnostics, not errors.
pub fn parse(src: &[u8]) -> Document {
    let mut diagnostics = Vec::new();
    let source = source::Source::new(src, &mut diagnostics);
    let walk = reader::walk(&source, &mut diagnostics);
    let mut plan = Plan {
        title: walk.title,
        sections: walk.sections,
        tasks: walk.tasks,
        ..Plan::default()
    };
    let spans: Vec<TaskSpan> = walk.spans;
    walk.runs.finish(&source, &walk.code, &mut plan);
    walk.ids.finish(&mut plan.tasks);
    Document {
        plan,
        diagnostics,
        spans,
        codepage: source.codepage,
        bytes: src.to_vec(),
    }
}
