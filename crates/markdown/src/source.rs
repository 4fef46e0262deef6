//! The text the reader analyses, and the way back to the original bytes.
//!
//! The reader works on clean UTF-8: the byte-order mark removed, invalid bytes shown as
//! U+FFFD and mojibake repaired. Every such change is an [`Edit`], so any position in the
//! clean text maps back to a position in the original bytes ([`Source::to_orig`]). None of
//! these changes touches a line ending, so line numbers are the same in both.

use std::borrow::Cow;
use std::cell::Cell;
use std::ops::Range;

use crate::Diagnostic;
use crate::mojibake::{self, Codepage};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    text: Range<usize>,
    orig: Range<usize>,
}

#[derive(Debug, Clone)]
pub(crate) struct Source<'a> {
    /// The clean text: the input itself when it needs no change.
    pub text: Cow<'a, str>,
    edits: Vec<Edit>,
    line_starts: Vec<usize>,
    /// The answer of the last [`Source::line_of`]: lookups mostly move forward a little.
    last_line: Cell<usize>,
    pub codepage: Option<Codepage>,
}

impl<'a> Source<'a> {
    pub fn new(bytes: &'a [u8], diags: &mut Vec<Diagnostic>) -> Source<'a> {
        let (decoded, decode_edits) = match std::str::from_utf8(bytes) {
            // Valid UTF-8 without a byte-order mark: nothing to decode.
            Ok(s) if !bytes.starts_with(b"\xEF\xBB\xBF") => (Cow::Borrowed(s), Vec::new()),
            _ => {
                let (s, edits) = decode(bytes);
                (Cow::Owned(s), edits)
            }
        };
        let detection = mojibake::detect(&decoded);
        let mut built = String::new();
        let mut edits = Vec::new();
        let codepage = detection.as_ref().map(|d| d.codepage);
        let repairs = detection.map(|d| d.repairs).unwrap_or_default();
        let dmap = Mapper {
            edits: &decode_edits,
        };
        let mut pending_lines: Vec<(usize, String)> = Vec::new();
        // Decode edits and repairs never overlap: merge them in decoded order.
        let mut events: Vec<(usize, Option<&Edit>, Option<&mojibake::Repair>)> = decode_edits
            .iter()
            .map(|e| (e.text.start, Some(e), None))
            .chain(repairs.iter().map(|r| (r.range.start, None, Some(r))))
            .collect();
        events.sort_by_key(|e| e.0);
        let text = if events.is_empty() {
            // Nothing to change: the decoded text is the clean text.
            decoded
        } else {
            let text = &mut built;
            text.reserve(decoded.len());
            let mut last = 0;
            for (_, dec, rep) in events {
                if let Some(e) = dec {
                    text.push_str(&decoded[last..e.text.start]);
                    let start = text.len();
                    text.push_str(&decoded[e.text.clone()]);
                    edits.push(Edit {
                        text: start..text.len(),
                        orig: e.orig.clone(),
                    });
                    last = e.text.end;
                } else if let Some(r) = rep {
                    text.push_str(&decoded[last..r.range.start]);
                    let start = text.len();
                    text.push_str(&r.replacement);
                    edits.push(Edit {
                        text: start..text.len(),
                        orig: dmap.to_orig(r.range.start)..dmap.to_orig(r.range.end),
                    });
                    if !r.alternatives.is_empty() {
                        let alts: Vec<&str> =
                            r.alternatives.iter().take(6).map(String::as_str).collect();
                        pending_lines.push((
                            start,
                            format!(
                                "a byte was lost here; read as {}, but it could also have been {}",
                                r.replacement,
                                alts.join(" ")
                            ),
                        ));
                    }
                    last = r.range.end;
                }
            }
            text.push_str(&decoded[last..]);
            Cow::Owned(built)
        };
        edits.sort_by_key(|e| (e.text.start, e.text.end));
        let line_starts = line_starts(&text);
        let src = Source {
            text,
            edits,
            line_starts,
            last_line: Cell::new(0),
            codepage,
        };
        if let Some(cp) = codepage {
            let n = repairs.len();
            let first = src
                .edits
                .iter()
                .find(|e| !e.text.is_empty())
                .map_or(1, |e| src.line_of(e.text.start));
            diags.push(Diagnostic {
                line: first,
                message: format!(
                    "repaired {n} mojibake sequence{} (UTF-8 text that had been decoded as {})",
                    if n == 1 { "" } else { "s" },
                    cp.name()
                ),
            });
        }
        // One note per kind of guess, not one per occurrence.
        let mut groups: Vec<(String, u32, usize)> = Vec::new();
        for (pos, msg) in pending_lines {
            match groups.iter_mut().find(|g| g.0 == msg) {
                Some(g) => g.2 += 1,
                None => groups.push((msg, src.line_of(pos), 1)),
            }
        }
        for (msg, line, n) in groups {
            let times = if n > 1 {
                format!(" ({n} times, first here)")
            } else {
                String::new()
            };
            diags.push(Diagnostic {
                line,
                message: format!("{msg}{times}"),
            });
        }
        // Decode edits are in byte order: count line endings from one to the next.
        let (mut counted, mut newlines) = (0, 0u32);
        for e in &decode_edits {
            if e.orig.len() != 3 || e.orig.start != 0 || bytes.get(..3) != Some(b"\xEF\xBB\xBF") {
                newlines += bytes[counted..e.orig.start]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u32;
                counted = e.orig.start;
                let line = 1 + newlines;
                diags.push(Diagnostic {
                    line,
                    message: format!(
                        "{} byte(s) are not valid UTF-8; read as U+FFFD",
                        e.orig.len()
                    ),
                });
            }
        }
        src
    }

    /// The original byte offset of clean-text offset `pos`.
    pub fn to_orig(&self, pos: usize) -> usize {
        Mapper { edits: &self.edits }.to_orig(pos)
    }

    pub fn to_orig_range(&self, r: &Range<usize>) -> Range<usize> {
        let start = self.to_orig(r.start);
        let end = if r.end == r.start {
            start
        } else {
            self.to_orig(r.end)
        };
        start..end
    }

    /// How many lines the text has (a final line ending starts an empty last line).
    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// 1-based line of a clean-text offset: the number of line starts at or before it.
    pub fn line_of(&self, pos: usize) -> u32 {
        let starts = &self.line_starts;
        let mut k = self.last_line.get();
        if k > 0 && starts[k - 1] > pos {
            k = starts.partition_point(|&s| s <= pos);
        } else {
            // Step forward from the last answer; search when it is far.
            let mut steps = 0;
            while k < starts.len() && starts[k] <= pos {
                k += 1;
                steps += 1;
                if steps == 8 {
                    k = starts.partition_point(|&s| s <= pos);
                    break;
                }
            }
        }
        self.last_line.set(k);
        k as u32
    }

    /// Clean-text range of a 1-based line, without its line ending.
    pub fn line_range(&self, line: u32) -> Range<usize> {
        let i = (line as usize)
            .saturating_sub(1)
            .min(self.line_starts.len() - 1);
        let start = self.line_starts[i];
        let mut end = self
            .line_starts
            .get(i + 1)
            .map_or(self.text.len(), |&s| s - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        start..end
    }
}

/// Offsets where lines start: 0 and after every `\n`. Eight bytes at a time: a word with
/// no `\n` (most of them) is passed over with a few operations.
fn line_starts(text: &str) -> Vec<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = text.as_bytes();
    let mut starts = Vec::with_capacity(b.len() / 32 + 1);
    starts.push(0);
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default());
        // A zero byte in `word ^ "\n\n\n..."` is a line ending: this is non-zero exactly
        // when there is one.
        let x = word ^ (ONES * u64::from(b'\n'));
        if x.wrapping_sub(ONES) & !x & HIGH != 0 {
            for (j, &c) in chunk.iter().enumerate() {
                if c == b'\n' {
                    starts.push(at + j + 1);
                }
            }
        }
        at += 8;
    }
    for (j, &c) in chunks.remainder().iter().enumerate() {
        if c == b'\n' {
            starts.push(at + j + 1);
        }
    }
    starts
}

struct Mapper<'a> {
    edits: &'a [Edit],
}

impl Mapper<'_> {
    fn to_orig(&self, pos: usize) -> usize {
        let k = self.edits.partition_point(|e| e.text.start <= pos);
        if k == 0 {
            return pos;
        }
        // Several edits may start at `pos` (an empty one, then a real one): the last
        // edit starting at or before `pos` decides.
        let e = &self.edits[k - 1];
        if pos >= e.text.end {
            e.orig.end + (pos - e.text.end)
        } else {
            e.orig.start
        }
    }
}

/// UTF-8 decoding that never fails: the BOM is dropped and each invalid byte run becomes
/// U+FFFD, each recorded as an edit.
fn decode(bytes: &[u8]) -> (String, Vec<Edit>) {
    let mut edits = Vec::new();
    let mut rest = bytes;
    let mut offset = 0;
    if rest.starts_with(b"\xEF\xBB\xBF") {
        edits.push(Edit {
            text: 0..0,
            orig: 0..3,
        });
        rest = &rest[3..];
        offset = 3;
    }
    let mut text = String::with_capacity(rest.len());
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                text.push_str(s);
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                text.push_str(std::str::from_utf8(&rest[..good]).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len() - good);
                let start = text.len();
                text.push('\u{FFFD}');
                edits.push(Edit {
                    text: start..text.len(),
                    orig: offset + good..offset + good + bad,
                });
                rest = &rest[good + bad..];
                offset += good + bad;
            }
        }
    }
    (text, edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_after_a_bom_map_three_bytes_on() {
        let mut d = Vec::new();
        let s = Source::new(b"\xEF\xBB\xBF# T\n- [ ] a\n", &mut d);
        assert_eq!(s.text, "# T\n- [ ] a\n");
        assert_eq!(s.to_orig(0), 3);
        assert_eq!(s.to_orig(6), 9);
        assert_eq!(s.line_of(6), 2);
    }

    #[test]
    fn invalid_bytes_become_replacement_characters_and_map_back() {
        let mut d = Vec::new();
        let s = Source::new(b"a\xFFb\n", &mut d);
        assert_eq!(s.text, "a\u{FFFD}b\n");
        assert_eq!(s.to_orig(4), 2);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn line_starts_are_found_wherever_the_line_endings_fall() {
        for len in 0..40 {
            for every in 1..12 {
                let text: String = (0..len)
                    .map(|i| if i % every == every - 1 { '\n' } else { 'a' })
                    .collect();
                let want: Vec<usize> = std::iter::once(0)
                    .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                    .collect();
                assert_eq!(line_starts(&text), want, "{text:?}");
            }
        }
        assert_eq!(line_starts("é\n✅\n\u{a}x"), vec![0, 3, 7, 8]);
        // Bytes next to `\n` in value (0x0B, 0x09, 0x8A in `Ê`) are not line endings.
        let text = "\u{b}\tÊ\u{b}\u{b}\tÊÊ\u{b}\n\u{b}Ê\tÊ\u{b}\u{b}\u{b}\u{b}\n";
        let want: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        assert_eq!(line_starts(text), want);
    }

    #[test]
    fn crlf_lines_exclude_the_carriage_return() {
        let mut d = Vec::new();
        let s = Source::new(b"one\r\ntwo\r\n", &mut d);
        assert_eq!(&s.text[s.line_range(1)], "one");
        assert_eq!(&s.text[s.line_range(2)], "two");
    }
}
