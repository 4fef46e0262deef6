//! The quick sync: when a new version of a plan differs from the stored one only in
//! checkbox markers (`[ ]` <-> `[x]`), the tasks on those lines are all that changed, and
//! the sync can skip parsing the whole document. Anything else falls back to the full sync,
//! which is the reference: tests run both on the same edits and compare.

use taskman_core::Status;

use crate::stored::TaskData;
use crate::sync::{Mergeable, StatusChange, SyncReport, read_base};

/// One ticked or unticked box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkerChange {
    /// 1-based line.
    pub line: u32,
    pub old: u8,
    pub new: u8,
}

/// Markers the quick path understands; other (Obsidian alternate) markers take the full
/// path.
fn plain_marker(b: u8) -> bool {
    matches!(b, b' ' | b'x' | b'X')
}

/// The marker changes from `old` to `new`, or `None` when the texts differ in any other way.
/// Empty when they are equal.
pub fn marker_changes(old: &[u8], new: &[u8]) -> Option<Vec<MarkerChange>> {
    if old.len() != new.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut line = 1u32;
    let mut counted = 0usize;
    let mut at = 0usize;
    const CHUNK: usize = 256;
    while at < old.len() {
        let end = (at + CHUNK).min(old.len());
        if old[at..end] == new[at..end] {
            at = end;
            continue;
        }
        for p in at..end {
            if old[p] == new[p] {
                continue;
            }
            let (o, n) = (old[p], new[p]);
            if !plain_marker(o) || !plain_marker(n) || p == 0 || p + 1 >= old.len() {
                return None;
            }
            if old[p - 1] != b'[' || old[p + 1] != b']' || new[p - 1] != b'[' || new[p + 1] != b']'
            {
                return None;
            }
            // The bracket must open the list item: only indentation, block quotes and a
            // list marker before it on its line.
            let line_start = old[..p]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            if !is_list_prefix(&old[line_start..p - 1]) {
                return None;
            }
            line += old[counted..p].iter().filter(|&&b| b == b'\n').count() as u32;
            counted = p;
            if out.last().is_some_and(|c: &MarkerChange| c.line == line) {
                // Two changes on one line: not a single box.
                return None;
            }
            out.push(MarkerChange {
                line,
                old: o,
                new: n,
            });
        }
        at = end;
    }
    Some(out)
}

/// The stored task on a changed line, as the quick sync reads it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub key: String,
    pub current: Mergeable,
    /// The `base` column as stored (see [`crate::sync::stored_base`]).
    pub base: Option<String>,
    /// The `data` column (JSON [`TaskData`]).
    pub data: String,
}

#[derive(Debug, Clone)]
pub struct QuickUpdate {
    pub id: i64,
    pub before: Mergeable,
    pub value: Mergeable,
    pub base: Mergeable,
    pub data: String,
    pub changed: bool,
}

/// What the quick sync will write, decided for every changed line before anything is.
#[derive(Debug, Default)]
pub struct QuickPlan {
    pub updates: Vec<QuickUpdate>,
    status_changed: Vec<StatusChange>,
    updated_from_file: usize,
}

impl QuickPlan {
    /// Merge the status of the task on `ch`'s line three ways, as the full sync does.
    /// `false` when the full sync must decide: no single imported task on that line, a
    /// stored marker that is not the old text's, or a conflict (the full sync reports it
    /// and remembers it).
    pub fn add(&mut self, ch: &MarkerChange, mut rows: Vec<Row>) -> serde_json::Result<bool> {
        if rows.len() != 1 {
            return Ok(false);
        }
        let row = rows.remove(0);
        let mut data: TaskData = serde_json::from_str(&row.data)?;
        if data.heading || data.marker.as_deref().unwrap_or(" ").as_bytes() != [ch.old] {
            return Ok(false);
        }
        let Some(base) = read_base(row.base.as_deref(), &row.current) else {
            return Ok(false);
        };
        let marker = |b: u8| char::from(b).to_string();
        let old_file = Status::from_marker(&marker(ch.old)).refined_by(data.declared);
        if base.status != old_file {
            return Ok(false);
        }
        let file = Status::from_marker(&marker(ch.new)).refined_by(data.declared);
        let (b, f, d) = (base.status, file, row.current.status);
        let mut value = row.current.clone();
        let mut new_base = base.clone();
        if f == d {
            new_base.status = f;
        } else if f == b {
            // Changed in the database only: kept, and still to be written into the file.
        } else if d == b {
            value.status = f;
            new_base.status = f;
            self.updated_from_file += 1;
        } else {
            return Ok(false);
        }
        data.marker = (ch.new != b' ').then(|| marker(ch.new));
        let changed = value != row.current;
        if changed {
            self.status_changed.push(StatusChange {
                key: row.key.clone(),
                from: d,
                to: value.status,
            });
        }
        self.updates.push(QuickUpdate {
            id: row.id,
            before: row.current,
            value,
            base: new_base,
            data: serde_json::to_string(&data)?,
            changed,
        });
        Ok(true)
    }

    /// Fill the report; `pending` lists (key, database status, file status) of every task
    /// whose database status the file does not show yet, in plan order.
    pub fn finish(self, report: &mut SyncReport, pending: Vec<(String, String, String)>) {
        report.status_changed = self.status_changed;
        report.updated_from_file = self.updated_from_file;
        report.pending_writeback = pending
            .into_iter()
            .filter_map(|(key, db, file)| {
                Some(StatusChange {
                    key,
                    from: crate::model::status_from_str(&file)?,
                    to: crate::model::status_from_str(&db)?,
                })
            })
            .collect();
    }
}

/// `  - `, `> * `, `12. `, `3) `: what may stand before a task's `[`.
fn is_list_prefix(prefix: &[u8]) -> bool {
    let s = match std::str::from_utf8(prefix) {
        Ok(s) => s,
        Err(_) => return false,
    };
    let s = s.trim_start_matches([' ', '\t', '>']);
    let rest = if let Some(r) = s.strip_prefix(['-', '*', '+']) {
        r
    } else {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return false;
        }
        match s[digits..].strip_prefix(['.', ')']) {
            Some(r) => r,
            None => return false,
        }
    };
    !rest.is_empty() && rest.bytes().all(|b| b == b' ' || b == b'\t')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticked_and_unticked_boxes_are_found_with_their_lines() {
        let old = b"# P\n- [ ] a\n  - [x] b\n1. [ ] c\n> - [ ] d\n";
        let new = b"# P\n- [x] a\n  - [ ] b\n1. [X] c\n> - [ ] d\n";
        assert_eq!(
            marker_changes(old, new).unwrap(),
            vec![
                MarkerChange {
                    line: 2,
                    old: b' ',
                    new: b'x'
                },
                MarkerChange {
                    line: 3,
                    old: b'x',
                    new: b' '
                },
                MarkerChange {
                    line: 4,
                    old: b' ',
                    new: b'X'
                },
            ]
        );
        assert_eq!(marker_changes(old, old).unwrap(), vec![]);
    }

    #[test]
    fn any_other_edit_takes_the_full_sync() {
        let old = b"- [ ] a [ ] b\n- [ ] c\n";
        // A bracket inside the text is not the task's box.
        assert_eq!(marker_changes(old, b"- [ ] a [x] b\n- [ ] c\n"), None);
        // A word changed.
        assert_eq!(marker_changes(old, b"- [ ] a [ ] B\n- [ ] c\n"), None);
        // An alternate marker.
        assert_eq!(marker_changes(old, b"- [ ] a [ ] b\n- [/] c\n"), None);
        // Different length.
        assert_eq!(marker_changes(old, b"- [ ] a [ ] b\n- [ ] cc\n"), None);
        // Text that looks like a box but follows words.
        let old = b"see [ ] here\n";
        assert_eq!(marker_changes(old, b"see [x] here\n"), None);
    }
}
