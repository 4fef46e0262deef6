//! Claims a document makes about itself: progress lines, task counts, status summaries,
//! a drawn critical path and a dependency matrix. Extraction only; lint checks them.

use std::borrow::Cow;

use taskman_core::{ClaimKind, Declared, DepRef, MatrixEntry, Priority};

use crate::inline;
use crate::text;

/// Markup that does not change a line's meaning.
const PLAIN_MARKUP: &[&str] = &["**", "__", "`"];

/// Text of a line with markup that does not change its meaning removed.
pub(crate) fn plain(line: &str) -> Cow<'_, str> {
    text::remove_all(line, PLAIN_MARKUP)
}

/// A line as [`scan_line`] and [`scan_status_line`] read it: without its list prefix or
/// checkbox, [`plain`], in reused buffers.
pub(crate) fn plain_line<'a>(raw: &'a str, scratch: &'a mut text::Scratch) -> &'a str {
    text::remove_all_in(strip_list_prefix(raw), PLAIN_MARKUP, scratch)
}

/// The label before the first colon (`Overall Progress: ...` -> `Overall Progress`).
fn label_of(line: &str) -> (&str, &str) {
    match text::split_once_byte(line, b':') {
        Some((l, r)) if l.split_whitespace().count() <= 6 && !text::contains(l, "http") => {
            (l.trim(), r)
        }
        _ => ("", line),
    }
}

fn strip_list_prefix(s: &str) -> &str {
    let t = trim_start(trim_start(s).trim_start_matches('>'));
    let t = trim_start(skip_bytes(t, |b| matches!(b, b'-' | b'*' | b'+')));
    let after_digits = skip_bytes(t, |b| b.is_ascii_digit());
    let t = if after_digits.len() < t.len() && after_digits.starts_with(['.', ')']) {
        trim_start(&after_digits[1..])
    } else {
        t
    };
    let t = t
        .strip_prefix("[ ]")
        .or_else(|| t.strip_prefix("[x]"))
        .or_else(|| t.strip_prefix("[X]"))
        .unwrap_or(t);
    trim_start(t)
}

/// `s.trim_start()`: ASCII whitespace by bytes, the rest as `trim_start` does it.
fn trim_start(s: &str) -> &str {
    let t = skip_bytes(s, |b| b.is_ascii_whitespace() || b == 0x0B);
    if t.as_bytes().first().is_some_and(|&b| b >= 0x80) {
        t.trim_start()
    } else {
        t
    }
}

/// `s` without its leading ASCII bytes that `skip` says yes to.
fn skip_bytes(s: &str, skip: impl Fn(u8) -> bool) -> &str {
    let n = s.bytes().take_while(|&b| b.is_ascii() && skip(b)).count();
    &s[n..]
}

fn num_before(s: &str, end: usize) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = end;
    while i > 0 && (b[i - 1].is_ascii_digit() || b[i - 1] == b'.') {
        i -= 1;
    }
    if i == end {
        return None;
    }
    s[i..end]
        .trim_start_matches('.')
        .parse()
        .ok()
        .map(|v| (v, i))
}

fn int_after(s: &str, start: usize) -> Option<(u32, usize)> {
    let rest = &s[start..];
    let digits = &rest[..rest.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    digits.parse().ok().map(|v| (v, start + digits.len()))
}

fn percent_after(s: &str) -> Option<f64> {
    // `(11%)` or ` 11%` right after.
    let t = s.trim_start().trim_start_matches('(').trim_start();
    let n = &t[..t
        .bytes()
        .take_while(|c| c.is_ascii_digit() || *c == b'.')
        .count()];
    if n.is_empty() || !t[n.len()..].starts_with('%') {
        return None;
    }
    n.parse().ok()
}

const UNITS: &[&str] = &[
    "steps",
    "step",
    "tasks",
    "task",
    "items",
    "item",
    "phases",
    "phase",
    "stories",
    "milestones",
    "done",
    "complete",
    "completed",
];
const PROGRESS_WORDS: &[&str] = &[
    "progress",
    "complete",
    "completed",
    "done",
    "finished",
    "ready",
    "status",
];

/// A `done of total` progress claim.
fn fraction(done: u32, total: u32, percent: Option<f64>, unit: Option<String>) -> ClaimKind {
    ClaimKind::Progress {
        done: Some(done),
        total: Some(total),
        percent,
        unit,
    }
}

/// Claims on one line of prose (a paragraph line, a list item, a heading).
#[cfg(test)]
pub(crate) fn scan_line(raw: &str, is_heading: bool) -> Vec<(String, ClaimKind)> {
    scan_plain_line(&plain(strip_list_prefix(raw)), is_heading)
}

/// [`scan_line`] of a line already read by [`plain_line`].
pub(crate) fn scan_plain_line(line: &str, is_heading: bool) -> Vec<(String, ClaimKind)> {
    let mut out = Vec::new();
    let (label, rest) = label_of(line);
    if !may_claim(rest) {
        return out;
    }
    let mut label_buf = [0u8; 64];
    let label_l = text::lower_in(label, &mut label_buf);
    let mut found_fraction = false;

    // `11/100 steps (11%)`, `(5/26)`.
    let b = rest.as_bytes();
    for (i, _) in rest.match_indices('/') {
        let Some((done, _)) = num_before(rest, i.min(b.len())).filter(|(v, _)| v.fract() == 0.0)
        else {
            continue;
        };
        let after_slash = i + 1;
        let Some((total, end)) = int_after(rest, after_slash) else {
            continue;
        };
        let tail = &rest[end..];
        let unit = tail
            .split_whitespace()
            .next()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| UNITS.contains(&w.as_str()));
        let pct = percent_after(unit.as_ref().map_or(tail, |u| {
            &tail[tail.find(u.as_str()).map_or(0, |p| p + u.len())..]
        }));
        let in_parens = rest[..i]
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .ends_with('(')
            && tail.starts_with(')');
        let labelled = PROGRESS_WORDS.iter().any(|w| label_l.contains(w));
        if unit.is_none() && pct.is_none() && !(is_heading && in_parens) && !labelled {
            continue;
        }
        if (done as u32) > total || total == 0 {
            continue;
        }
        let unit = unit.filter(|u| !matches!(u.as_str(), "done" | "complete" | "completed"));
        out.push((label.to_string(), fraction(done as u32, total, pct, unit)));
        found_fraction = true;
        break;
    }
    // `62.5% (5 of 8 phases complete)`, `5 of 8 phases complete`.
    if !found_fraction {
        let mut lower_buf = [0u8; 256];
        let lower = text::lower_in(rest, &mut lower_buf);
        if let Some(p) = lower.find(" of ")
            && let (Some((done, _)), Some((total, end))) =
                (num_before(&lower, p), int_after(&lower, p + 4))
        {
            let tail = lower[end..].trim_start();
            let unit: String = tail.chars().take_while(|c| c.is_alphabetic()).collect();
            let after_unit = tail[unit.len()..].trim_start();
            let completes = ["complete", "completed", "done", "finished"]
                .iter()
                .any(|w| after_unit.starts_with(w));
            if completes && done.fract() == 0.0 && (done as u32) <= total {
                let pct = lower[..p]
                    .rfind('%')
                    .and_then(|q| num_before(&lower, q))
                    .map(|(v, _)| v);
                let unit = (!unit.is_empty()).then_some(unit);
                out.push((label.to_string(), fraction(done as u32, total, pct, unit)));
                found_fraction = true;
            }
        }
    }
    // `62.5% overall progress`, `Current Status: 60% production ready`, `76.3% Complete`.
    if !found_fraction
        && let Some(q) = rest.find('%')
        && let Some((pct, _)) = num_before(rest, q)
    {
        let after = rest[q + 1..].trim_start().to_lowercase();
        let next_words: String = after
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let says = PROGRESS_WORDS.iter().any(|w| next_words.contains(w))
            || ["progress", "status"].iter().any(|w| label_l.contains(w))
                && !after.starts_with('+');
        let not_target =
            !rest[..q].contains(['≥', '>', '<', '≤', '~', '→']) && !after.starts_with('→');
        if says && not_target && pct <= 100.0 {
            out.push((
                label.to_string(),
                ClaimKind::Progress {
                    done: None,
                    total: None,
                    percent: Some(pct),
                    unit: None,
                },
            ));
        }
    }
    // `Total Tasks: 47`, `Phase 1: 5 critical tasks`: a number right after the label.
    let l_trim = rest.trim_start();
    let count = int_after(l_trim, 0);
    if let Some((n, _)) = count
        && (label_l.contains("total task") || label_l == "tasks" || label_l == "task count")
    {
        out.push((
            String::new(),
            ClaimKind::TaskCount {
                count: n,
                priority: None,
            },
        ));
    } else if let Some((n, end)) = count
        && !label.is_empty()
    {
        let words: Vec<String> = l_trim[end..]
            .split_whitespace()
            .take(3)
            .map(|w| w.to_lowercase())
            .collect();
        let (prio, k) = match words.first().and_then(|w| Priority::parse(w)) {
            Some(p) => (
                Some(p),
                if words.get(1).is_some_and(|w| w == "priority") {
                    2
                } else {
                    1
                },
            ),
            None => (None, 0),
        };
        if words.get(k).is_some_and(|w| w == "tasks" || w == "task") {
            out.push((
                label.to_string(),
                ClaimKind::TaskCount {
                    count: n,
                    priority: prio,
                },
            ));
        }
    }
    // `Critical Path: A → B → C`.
    if has_arrow(rest)
        && label_l.contains("critical path")
        && let Some(ids) = arrow_ids(rest)
    {
        out.push((String::new(), ClaimKind::CriticalPath { ids }));
    }
    out
}

/// `Step 8: Integration Tests (READY)`, `Step 10: Load Testing (BLOCKED on Step 8)`: a
/// summary line naming a task and its status.
#[cfg(test)]
pub(crate) fn scan_status_line(raw: &str) -> Option<ClaimKind> {
    scan_plain_status_line(&plain(strip_list_prefix(raw)))
}

/// [`scan_status_line`] of a line already read by [`plain_line`].
pub(crate) fn scan_plain_status_line(line: &str) -> Option<ClaimKind> {
    let (id, _) = inline::split_id(line);
    let (id, _) = id?;
    let open = line.rfind('(')?;
    let inner = line[open + 1..].trim_end().strip_suffix(')')?;
    let word = inner.split(" on ").next().unwrap_or(inner);
    let declared = Declared::from_words(word)?;
    Some(ClaimKind::TaskStatus { id, declared })
}

/// Whether [`scan_plain_line`] can find a claim in [`plain_line`]`(raw)`, judged without
/// making that plain line: [`may_claim`] of the line's text with every `*`, `_` and `` ` ``
/// left out (`plain` leaves out some of those, never anything else, so this sees every
/// ` of `, `->` or leading number the plain line has), and a number first either after the
/// first colon or at the start (the label may or may not be taken).
pub(crate) fn may_have_claims(raw: &str) -> bool {
    // What each byte may start: 1 a `/`, `%` or `->` (said yes to on any `>`), 2 an arrow
    // character (they all start with 0xE2), 4 the `f` of ` of `.
    const CLASS: [u8; 256] = {
        let mut t = [0u8; 256];
        t[b'/' as usize] = 1;
        t[b'%' as usize] = 1;
        t[b'>' as usize] = 1;
        t[0xE2] = 2;
        t[b'f' as usize] = 4;
        t[b'F' as usize] = 4;
        t
    };
    let s = strip_list_prefix(raw);
    let b = s.as_bytes();
    let class = b.iter().fold(0u8, |acc, &c| acc | CLASS[usize::from(c)]);
    if class & 1 != 0 || (class & 2 != 0 && has_arrow_char(b)) {
        return true;
    }
    let markup = |c: char| matches!(c, '*' | '_' | '`');
    if class & 4 != 0 {
        // ` of ` in any case, markup left out: around each `f`.
        let kept = |i: usize| !matches!(b[i], b'*' | b'_' | b'`');
        for (f, &c) in b.iter().enumerate() {
            if c | 0x20 != b'f' {
                continue;
            }
            let mut before = (0..f).rev().filter(|&i| kept(i));
            let after = (f + 1..b.len()).find(|&i| kept(i));
            if before.next().is_some_and(|i| b[i] | 0x20 == b'o')
                && before.next().is_some_and(|i| b[i] == b' ')
                && after.is_some_and(|i| b[i] == b' ')
            {
                return true;
            }
        }
    }
    let digit_first = |t: &str| {
        t.chars()
            .find(|&c| !(c.is_whitespace() || markup(c)))
            .is_some_and(|c| c.is_ascii_digit())
    };
    digit_first(s) || text::split_once_byte(s, b':').is_some_and(|(_, rest)| digit_first(rest))
}

/// Whether [`scan_plain_line`] can find a claim in `rest`, the text after the label: every
/// claim needs a `/`, a `%`, ` of ` in any case, an arrow ([`has_arrow`]) or a number right
/// at the start. Most lines have none; this looks in one pass. (` of ` has no `i` or `k`,
/// the only letters that non-ASCII characters lower-case to, so an ASCII case-insensitive
/// search finds it exactly when the lower-cased text holds it.)
fn may_claim(rest: &str) -> bool {
    let b = rest.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'/' | b'%' => return true,
            b'-' if b.get(i + 1) == Some(&b'>') => return true,
            b' ' if b
                .get(i + 1..i + 4)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"of ")) =>
            {
                return true;
            }
            // A lead byte: `i` is on a character boundary.
            0xE2 if rest[i..].starts_with(['→', '➜', '⟶', '⇒']) => return true,
            _ => {}
        }
    }
    rest.trim_start().starts_with(|c: char| c.is_ascii_digit())
}

/// Whether UTF-8 text holds `→`, `➜`, `⟶` or `⇒`, by their bytes.
fn has_arrow_char(b: &[u8]) -> bool {
    b.windows(3).any(|w| {
        matches!(
            w,
            [0xE2, 0x86, 0x92] | [0xE2, 0x9E, 0x9C] | [0xE2, 0x9F, 0xB6] | [0xE2, 0x87, 0x92]
        )
    })
}

/// Whether [`arrow_ids`] finds an arrow in `s` (cheaply: without rewriting it).
fn has_arrow(s: &str) -> bool {
    text::contains(s, "->") || s.contains(['→', '➜', '⟶', '⇒'])
}

fn arrow_ids(s: &str) -> Option<Vec<String>> {
    let norm = s.replace("->", "→").replace(['➜', '⟶', '⇒'], "→");
    if !norm.contains('→') {
        return None;
    }
    let ids: Vec<String> = norm
        .split('→')
        .map(|p| {
            let p = p.trim();
            let p = p.split('(').next().unwrap_or(p).trim();
            p.trim_matches(|c: char| !c.is_alphanumeric()).to_string()
        })
        .collect();
    let looks = |x: &String| inline::split_id(x).0.is_some();
    (ids.len() >= 2 && ids.iter().all(looks)).then_some(ids)
}

/// Claims inside a code block: a drawn critical path, or a dependency matrix
/// (`X ← A, B` rows and `├── Y` children under a root `X`). `heading` is the title of the
/// section the block stands in. Returns (line offset within the block, claim).
pub(crate) fn scan_code(content: &str, heading: &str) -> Vec<(usize, ClaimKind)> {
    let h = heading.to_lowercase();
    let mut out = Vec::new();
    if h.contains("critical path") {
        for (k, line) in content.lines().enumerate() {
            if let Some(ids) = arrow_ids(line) {
                out.push((k, ClaimKind::CriticalPath { ids }));
            }
        }
        return out;
    }
    if !(h.contains("dependenc") || h.contains("matrix")) {
        return out;
    }
    let mut root: Option<String> = None;
    for (k, line) in content.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            root = None;
            continue;
        }
        let tree = t.starts_with(['├', '└', '│', '|', '`', '+']);
        let body = t.trim_start_matches(['├', '└', '│', '─', '|', '`', '+', '-', ' ']);
        let id_of = |s: &str| -> Option<String> {
            let s = s.trim();
            let (id, _) = inline::split_id(s);
            id.map(|(i, _)| i)
        };
        if tree {
            if let (Some(r), Some(child)) = (&root, id_of(body)) {
                out.push((
                    k,
                    ClaimKind::Matrix(MatrixEntry {
                        task: child,
                        depends_on: vec![DepRef::Id(r.clone())],
                    }),
                ));
            }
            continue;
        }
        let (lhs, rhs) = match body.split_once('←').or_else(|| body.split_once("<-")) {
            Some((l, r)) => (l, Some(r)),
            None => (body, None),
        };
        let Some(task) = id_of(lhs) else {
            root = None;
            continue;
        };
        root = Some(task.clone());
        if let Some(r) = rhs {
            let deps: Vec<DepRef> = inline::parse_deps(r)
                .into_iter()
                .filter(|d| match d {
                    DepRef::Id(x) => inline::split_id(x).0.is_some(),
                    DepRef::AllPrevious => true,
                })
                .collect();
            if !deps.is_empty() {
                out.push((
                    k,
                    ClaimKind::Matrix(MatrixEntry {
                        task,
                        depends_on: deps,
                    }),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn arrow_characters_are_found_by_their_bytes() {
        for a in ['→', '➜', '⟶', '⇒'] {
            assert!(has_arrow_char(a.to_string().as_bytes()));
        }
        assert!(!has_arrow_char("✅ ⇐ ← a->b".as_bytes()));
    }

    /// The list prefix as it was read before it was done by bytes.
    fn strip_list_prefix_by_chars(s: &str) -> &str {
        let t = s.trim_start().trim_start_matches('>').trim_start();
        let t = t.trim_start_matches(['-', '*', '+']).trim_start();
        let digits = t.len() - t.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let t = if digits > 0 && t[digits..].starts_with(['.', ')']) {
            t[digits + 1..].trim_start()
        } else {
            t
        };
        let t = t
            .strip_prefix("[ ]")
            .or_else(|| t.strip_prefix("[x]"))
            .or_else(|| t.strip_prefix("[X]"))
            .unwrap_or(t);
        t.trim_start()
    }

    proptest! {
        #[test]
        fn list_prefixes_are_stripped_as_before(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just(" "), Just("\t"), Just("\u{b}"), Just("\u{c}"), Just("\r"),
                    Just("\u{a0}"), Just("\u{2003}"), Just(">"), Just("-"), Just("*"),
                    Just("+"), Just("12"), Just("."), Just(")"), Just("[ ]"), Just("[x]"),
                    Just("[X]"), Just("a"), Just("é"),
                ],
                0..10,
            )
        ) {
            let s: String = parts.concat();
            prop_assert_eq!(strip_list_prefix(&s), strip_list_prefix_by_chars(&s));
        }

        #[test]
        fn may_have_claims_misses_no_claim(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("/"), Just("%"), Just("->"), Just("-"), Just(">"), Just("→"),
                    Just("✅"), Just(" of "), Just(" O"), Just("f "), Just("o"), Just(" "),
                    Just("4"), Just("12"), Just("İ"), Just("\u{212A}"), Just("\u{a0}"),
                    Just("Step"), Just("Total Tasks"), Just("tasks"), Just("Progress"),
                    Just(":"), Just("**"), Just("*"), Just("__"), Just("_"), Just("`"),
                    Just("- "), Just("[ ] "), Just("1. "), Just("> "), Just("(5/8)"),
                    Just("Critical Path"),
                ],
                0..12,
            )
        ) {
            let raw: String = parts.concat();
            if !may_have_claims(&raw) {
                let mut scratch = text::Scratch::default();
                let plain = plain_line(&raw, &mut scratch);
                prop_assert!(scan_plain_line(plain, false).is_empty());
            }
        }

        #[test]
        fn may_claim_misses_no_claim(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("/"), Just("%"), Just("->"), Just("-"), Just(">"), Just("→"),
                    Just("⇒"), Just("✅"), Just(" of "), Just(" OF "), Just(" oF"),
                    Just("f "), Just(" "), Just("4"), Just("İ"), Just("\u{212A}"),
                    Just("\u{a0}"), Just("Step"), Just(":"), Just("a"),
                ],
                0..12,
            )
        ) {
            let rest: String = parts.concat();
            let needs = rest.contains(['/', '%'])
                || rest.to_lowercase().contains(" of ")
                || has_arrow(&rest)
                || int_after(rest.trim_start(), 0).is_some();
            prop_assert_eq!(may_claim(&rest) || !needs, true);
            if !may_claim(&rest) {
                let labelled = String::from("Label:") + &rest;
                prop_assert!(scan_plain_line(&labelled, false).is_empty());
            }
        }
    }

    type Found = (
        String,
        Option<u32>,
        Option<u32>,
        Option<f64>,
        Option<String>,
    );

    fn progress(line: &str) -> Option<Found> {
        scan_line(line, false)
            .into_iter()
            .find_map(|(s, k)| match k {
                ClaimKind::Progress {
                    done,
                    total,
                    percent,
                    unit,
                } => Some((s, done, total, percent, unit)),
                _ => None,
            })
    }

    #[test]
    fn progress_lines_in_the_seed_styles() {
        assert_eq!(
            progress("- **Overall Progress**: 11/100 steps (11%) 🔄"),
            Some((
                "Overall Progress".into(),
                Some(11),
                Some(100),
                Some(11.0),
                Some("steps".into())
            ))
        );
        assert_eq!(
            progress("**Overall Progress**: 62.5% (5 of 8 phases complete)"),
            Some((
                "Overall Progress".into(),
                Some(5),
                Some(8),
                Some(62.5),
                Some("phases".into())
            ))
        );
        assert_eq!(
            progress("**Current Status**: Phase 0.5 Complete (62.5% overall progress)"),
            Some(("Current Status".into(), None, None, Some(62.5), None))
        );
        assert_eq!(
            progress("**Current Status:** 60% production ready").map(|p| p.3),
            Some(Some(60.0))
        );
    }

    #[test]
    fn numbers_that_are_not_progress_are_ignored() {
        assert_eq!(progress("- [ ] Achieve ≥70% unit test coverage"), None);
        assert_eq!(progress("**Date**: 2025/12/25"), None);
        assert_eq!(
            progress("- [ ] Test Coverage: 90%+ across all modules"),
            None
        );
        assert_eq!(progress("Uptime 24/7 monitoring"), None);
    }

    #[test]
    fn task_counts() {
        let c = scan_line("**Total Tasks:** 47 discrete implementation tasks", false);
        assert!(matches!(
            c[0].1,
            ClaimKind::TaskCount {
                count: 47,
                priority: None
            }
        ));
        let c = scan_line(
            "- [ ] **Phase 1:** 5 critical tasks completed (Foundation)",
            false,
        );
        assert_eq!(c[0].0, "Phase 1");
        assert!(matches!(
            c[0].1,
            ClaimKind::TaskCount {
                count: 5,
                priority: Some(Priority::Critical)
            }
        ));
        let c = scan_line("- [ ] **Phase 2:** 4 high priority tasks completed", false);
        assert!(matches!(
            c[0].1,
            ClaimKind::TaskCount {
                count: 4,
                priority: Some(Priority::High)
            }
        ));
    }

    #[test]
    fn status_summary_lines() {
        assert!(matches!(
            scan_status_line("2. **Step 8**: Integration Tests (READY)"),
            Some(ClaimKind::TaskStatus { ref id, declared: Declared::Ready }) if id == "Step 8"
        ));
        assert!(matches!(
            scan_status_line("4. **Step 10**: Load Testing (BLOCKED on Step 8)"),
            Some(ClaimKind::TaskStatus {
                declared: Declared::Blocked,
                ..
            })
        ));
        assert!(scan_status_line("1. **Tests**: All new tests pass").is_none());
    }

    #[test]
    fn drawn_critical_path_and_matrix() {
        let c = scan_code("CORE-001 → SEC-001 → VALIDATION-001\n", "Critical Path");
        assert!(matches!(&c[0].1, ClaimKind::CriticalPath { ids } if ids.len() == 3));
        let m = scan_code(
            "CORE-001 (API Layer) ← Foundation\n├── SEC-001 (Authentication)\n└── ERROR-001 (Errors)\n\nPERF-001 (Performance) ← CORE-001, MONITORING-001\nDEPLOY-001 (CI/CD) ← ALL previous tasks\n",
            "Task Dependencies",
        );
        let rows: Vec<String> = m
            .iter()
            .map(|(_, k)| match k {
                ClaimKind::Matrix(e) => format!("{}<{}", e.task, e.depends_on.len()),
                _ => String::new(),
            })
            .collect();
        assert_eq!(
            rows,
            ["SEC-001<1", "ERROR-001<1", "PERF-001<2", "DEPLOY-001<1"]
        );
    }
}
