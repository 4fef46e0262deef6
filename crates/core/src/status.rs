//! Task status, and the status words and emoji people write next to a checkbox.

use serde::{Deserialize, Serialize};

/// Where a task stands. The checkbox decides; words and emoji only refine an open checkbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    Todo,
    InProgress,
    Blocked,
    Deferred,
    Done,
    Cancelled,
}

impl Status {
    /// Done or cancelled: nothing more will happen to this task, so it no longer holds
    /// anything up.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Done | Status::Cancelled)
    }

    pub fn is_done(self) -> bool {
        self == Status::Done
    }

    /// The status of a checkbox whose marker gives `self`, with the words or emoji next to
    /// it: they refine an open checkbox (`[ ] ... IN PROGRESS`); an open checkbox that says
    /// DONE stays open (the checkbox wins, and lint says so).
    pub fn refined_by(self, declared: Option<Declared>) -> Status {
        if self != Status::Todo {
            return self;
        }
        match declared.map(Declared::status) {
            Some(Status::Done) | None => Status::Todo,
            Some(s) => s,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Todo => "todo",
            Status::InProgress => "in_progress",
            Status::Blocked => "blocked",
            Status::Deferred => "deferred",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
        }
    }

    /// Status of a checkbox marker character: GFM `[ ]`, `[x]`, `[X]` and the Obsidian
    /// alternate markers (`[/]` in progress, `[-]` cancelled, `[>]` deferred, ...).
    /// Unknown single-character markers are open tasks.
    pub fn from_marker(marker: &str) -> Status {
        match marker {
            " " => Status::Todo,
            "x" | "X" | "✅" | "✔" | "✔️" | "☑" | "☑️" | "✓" => Status::Done,
            "/" | "~" | "🚧" | "🔄" | "." | "d" | "D" => Status::InProgress,
            "-" | "❌" | "c" | "C" => Status::Cancelled,
            ">" | "<" => Status::Deferred,
            "⏸️" | "⏸" | "B" => Status::Blocked,
            _ => Status::Todo,
        }
    }
}

/// What the words or emoji next to a task say about it (`✅ **COMPLETED**`, `📋 **NEXT**`,
/// `**Status:** ❌ Not Started`). Kept separate from [`Status`] because READY and NEXT are
/// claims lint checks against the dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Declared {
    Done,
    InProgress,
    Next,
    Ready,
    Blocked,
    NotStarted,
    Cancelled,
    Deferred,
}

impl Declared {
    /// The status this declaration implies for an open checkbox.
    pub fn status(self) -> Status {
        match self {
            Declared::Done => Status::Done,
            Declared::InProgress => Status::InProgress,
            Declared::Blocked => Status::Blocked,
            Declared::Cancelled => Status::Cancelled,
            Declared::Deferred => Status::Deferred,
            Declared::Next | Declared::Ready | Declared::NotStarted => Status::Todo,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Declared::Done => "DONE",
            Declared::InProgress => "IN PROGRESS",
            Declared::Next => "NEXT",
            Declared::Ready => "READY",
            Declared::Blocked => "BLOCKED",
            Declared::NotStarted => "NOT STARTED",
            Declared::Cancelled => "CANCELLED",
            Declared::Deferred => "DEFERRED",
        }
    }

    /// Recognise a status phrase (case-insensitive, surrounding punctuation ignored).
    pub fn from_words(words: &str) -> Option<Declared> {
        let w: String = words
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_uppercase()
            .replace(['_', '-'], " ");
        let w = w.split_whitespace().collect::<Vec<_>>().join(" ");
        Some(match w.as_str() {
            "DONE" | "COMPLETED" | "COMPLETE" | "FINISHED" | "SHIPPED" | "RESOLVED" => {
                Declared::Done
            }
            "IN PROGRESS" | "WIP" | "ONGOING" | "STARTED" | "DOING" => Declared::InProgress,
            "NEXT" | "UP NEXT" => Declared::Next,
            "READY" | "READY TO START" => Declared::Ready,
            "BLOCKED" | "ON HOLD" | "WAITING" => Declared::Blocked,
            "NOT STARTED" | "TODO" | "TO DO" | "PENDING" | "PLANNED" | "OPEN" => {
                Declared::NotStarted
            }
            "CANCELLED" | "CANCELED" | "DROPPED" | "WONT DO" | "WON'T DO" => Declared::Cancelled,
            "DEFERRED" | "POSTPONED" | "LATER" => Declared::Deferred,
            _ => return None,
        })
    }

    /// Recognise a status emoji (with or without the emoji variation selector).
    pub fn from_emoji(e: &str) -> Option<Declared> {
        let e = e.trim_end_matches('\u{FE0F}');
        Some(match e {
            "✅" | "✔" | "☑" | "✓" => Declared::Done,
            "🔄" | "🚧" | "🔨" => Declared::InProgress,
            "📋" => Declared::Next,
            "⏸" | "🛑" | "🔒" => Declared::Blocked,
            "❌" | "⬜" | "⏳" | "☐" | "🔲" => Declared::NotStarted,
            "🚫" => Declared::Cancelled,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_are_recognised_whatever_their_case_and_punctuation() {
        assert_eq!(Declared::from_words("**COMPLETED**"), Some(Declared::Done));
        assert_eq!(
            Declared::from_words("In Progress"),
            Some(Declared::InProgress)
        );
        assert_eq!(Declared::from_words("(READY)"), Some(Declared::Ready));
        assert_eq!(
            Declared::from_words("Not Started"),
            Some(Declared::NotStarted)
        );
        assert_eq!(Declared::from_words("Quick Win"), None);
    }

    #[test]
    fn emoji_with_variation_selector_is_the_same_status() {
        assert_eq!(Declared::from_emoji("⏸️"), Some(Declared::Blocked));
        assert_eq!(Declared::from_emoji("⏸"), Some(Declared::Blocked));
        assert_eq!(Declared::from_emoji("⚡"), None);
    }

    #[test]
    fn obsidian_markers_map_to_their_status() {
        assert_eq!(Status::from_marker("/"), Status::InProgress);
        assert_eq!(Status::from_marker("-"), Status::Cancelled);
        assert_eq!(Status::from_marker(">"), Status::Deferred);
        assert_eq!(Status::from_marker("X"), Status::Done);
        assert_eq!(Status::from_marker("?"), Status::Todo);
    }
}
