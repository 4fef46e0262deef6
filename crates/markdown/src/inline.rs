//! The text of one task line: its id, title, status words and emoji, and Obsidian Tasks
//! fields; and `Label: value` metadata lines.

use std::borrow::Cow;
use std::ops::Range;

use taskman_core::{Declared, DepRef, Effort, Priority};

use crate::text::{self, Scratch, remove_all, remove_all_in, with_lower};

/// How sure we are that an id was meant as one. Strong ids (`CORE-001`, `🆔 abc`,
/// `<!-- id: x -->`) are unique by intent, so a repeat is a lint error; weak ids (`Step 3`,
/// `1.2`) often restart per section, so a repeat is scoped instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdStrength {
    Strong,
    Weak,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ItemText {
    pub title: String,
    pub id: Option<(String, IdStrength)>,
    pub declared: Option<Declared>,
    /// Where the status words/emoji stand, relative to the parsed content.
    pub status_span: Option<Range<usize>>,
    pub priority: Option<Priority>,
    pub effort: Option<Effort>,
    pub depends_on: Vec<DepRef>,
    pub tags: Vec<String>,
    pub due: Option<String>,
    pub start: Option<String>,
    pub scheduled: Option<String>,
    pub completed: Option<String>,
    /// Obsidian Tasks fields are present (the document uses that convention).
    pub obsidian: bool,
}

const DATE_SIGNIFIERS: &[(&str, u8)] = &[
    ("📅", 0),
    ("🗓", 0),
    ("⏳", 1),
    ("🛫", 2),
    ("✅", 3),
    ("➕", 4),
    ("❌", 5),
];
const PRIORITY_SIGNIFIERS: &[&str] = &["🔺", "⏫", "🔼", "🔽", "⏬"];

/// Parse the text after a checkbox (or after a heading's ballot box).
#[cfg(test)]
pub(crate) fn parse_item(content: &str) -> ItemText {
    parse_item_in(content, &mut Scratch::default())
}

/// [`parse_item`], with buffers to reuse.
pub(crate) fn parse_item_in(content: &str, scratch: &mut Scratch) -> ItemText {
    let mut out = ItemText::default();
    // HTML comments carry ids and completion dates: `<!-- id: init -->`,
    // `<!-- Completed: 2025-01-15 -->`. Without any, the body is the content itself.
    let (body, map) = if text::contains(content, "<!--") {
        let (body, map) = strip_comments(content, &mut out);
        (Cow::Owned(body), map)
    } else {
        (Cow::Borrowed(content), Vec::new())
    };
    let body: &str = &body;
    let to_content = |b: usize| -> usize {
        if map.is_empty() {
            return b;
        }
        let k = map.partition_point(|(bo, _)| *bo <= b);
        let (bo, co) = map[k.saturating_sub(1)];
        co + (b - bo)
    };

    // Obsidian Tasks fields sit at the end of the line.
    let fields_at = obsidian_fields_start(body);
    let (main, fields) = body.split_at(fields_at);
    if !fields.trim().is_empty() {
        out.obsidian = true;
        parse_obsidian_fields(fields, &mut out);
    }

    // Status words and emoji at the end of the title, or after the Obsidian fields.
    let (kept, span, declared) = strip_status_tail(main, &mut scratch.words);
    if let Some(s) = span {
        out.status_span = Some(to_content(s.start)..to_content(s.end));
    }
    out.declared = declared;
    if out.declared.is_none()
        && !fields.trim().is_empty()
        && let (_, Some(s), Some(d)) = strip_status_tail(body, &mut scratch.words)
        && s.start >= fields_at
    {
        out.status_span = Some(to_content(s.start)..to_content(s.end));
        out.declared = Some(d);
    }

    // What `clean_markup` gives, in reused buffers.
    let t = main[..kept].trim();
    if struck_through(t) && out.declared.is_none() {
        out.declared = Some(Declared::Cancelled);
    }
    let clean = remove_all_in(t, EMPHASIS, scratch).trim();
    let (id, title) = split_id(clean);
    if out.id.is_none() {
        out.id = id;
    }
    out.title = if title.is_empty() {
        clean.to_string()
    } else {
        title.to_string()
    };
    // Tags: words that start with `#`.
    let words = if out.title.contains('#') {
        out.title.split_whitespace()
    } else {
        "".split_whitespace()
    };
    for w in words {
        if let Some(tag) = w.strip_prefix('#') {
            let tag = tag.trim_end_matches(|c: char| !c.is_alphanumeric());
            if tag.chars().next().is_some_and(char::is_alphabetic) {
                out.tags.push(tag.to_string());
            }
        }
    }
    if out.effort.is_none() {
        out.effort = trailing_effort(&out.title);
    }
    out
}

/// The content with its HTML comments cut out, reading the ids and completion dates they
/// hold into `out`, and a map of (body offset, content offset) pairs back to the content.
fn strip_comments(content: &str, out: &mut ItemText) -> (String, Vec<(usize, usize)>) {
    let mut body = String::with_capacity(content.len());
    let mut rest = content;
    let mut map: Vec<(usize, usize)> = Vec::new(); // (body offset, content offset)
    let mut consumed = 0;
    while let Some(p) = text::find(rest, "<!--") {
        // CommonMark 0.31: `<!-->` and `<!--->` are (empty) comments of their own; any
        // other comment ends at the first `-->` after its opening `<!--`. `e` is where the
        // closing `-->` starts, from `p`.
        let e = if rest[p..].starts_with("<!-->") {
            Some(2)
        } else if rest[p..].starts_with("<!--->") {
            Some(3)
        } else {
            text::find(&rest[p + 4..], "-->").map(|e| e + 4)
        };
        let Some(e) = e else {
            break;
        };
        map.push((body.len(), consumed));
        body.push_str(&rest[..p]);
        let inner = rest.get(p + 4..p + e).unwrap_or("").trim();
        if let Some((k, v)) = inner.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "id" && !v.is_empty() {
                out.id = Some((v.to_string(), IdStrength::Strong));
            } else if k == "completed" || k == "done" {
                out.completed = first_date(v).or(Some(v.to_string()));
            }
        }
        consumed += p + e + 3;
        rest = &rest[p + e + 3..];
    }
    map.push((body.len(), consumed));
    body.push_str(rest);
    (body, map)
}

/// A bracketed or parenthesised effort at the end of a title: `(8h)`, `(~2 hours)`,
/// `(60 minutes)`.
fn trailing_effort(title: &str) -> Option<Effort> {
    let t = title.trim_end();
    let inner = t
        .strip_suffix(')')
        .and_then(|x| x.rfind('(').map(|p| &x[p + 1..]))?;
    if inner.chars().count() > 20 {
        return None;
    }
    Effort::parse(inner)
}

const ID_SIGNIFIERS: &[&str] = &["🆔", "⛔", "🔁", "🏁"];

/// Which signifiers occur in `s`: bit k for `DATE_SIGNIFIERS[k]`, then the id signifiers,
/// then the priority signifiers. Every signifier is one character starting with byte 0xE2
/// or 0xF0, so only those bytes need looking at; plain ASCII text costs one pass.
fn signifier_mask(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut mask = 0;
    for (i, &c) in b.iter().enumerate() {
        if c != 0xE2 && c != 0xF0 {
            continue;
        }
        let rest = &b[i..];
        let sigs = DATE_SIGNIFIERS
            .iter()
            .map(|(sig, _)| *sig)
            .chain(ID_SIGNIFIERS.iter().copied())
            .chain(PRIORITY_SIGNIFIERS.iter().copied());
        for (k, sig) in sigs.enumerate() {
            if rest.starts_with(sig.as_bytes()) {
                mask |= 1 << k;
            }
        }
    }
    mask
}

fn obsidian_fields_start(s: &str) -> usize {
    let mut best = s.len();
    // Searching for a signifier that is not there finds nothing: skip those searches.
    let mask = signifier_mask(s);
    if mask == 0 {
        return best;
    }
    let present = |k: usize| mask & (1 << k) != 0;
    for (k, (sig, _)) in DATE_SIGNIFIERS.iter().enumerate() {
        if !present(k) {
            continue;
        }
        for (p, _) in s.match_indices(sig) {
            let after = s[p + sig.len()..]
                .trim_start_matches('\u{FE0F}')
                .trim_start();
            if is_date(after) {
                best = best.min(p);
                break;
            }
        }
    }
    for (k, sig) in ID_SIGNIFIERS.iter().enumerate() {
        if !present(DATE_SIGNIFIERS.len() + k) {
            continue;
        }
        if let Some(p) = s.find(sig) {
            let after = s[p + sig.len()..]
                .trim_start_matches('\u{FE0F}')
                .trim_start();
            if after.chars().next().is_some_and(|c| c.is_alphanumeric()) {
                best = best.min(p);
            }
        }
    }
    for (k, sig) in PRIORITY_SIGNIFIERS.iter().enumerate() {
        if !present(DATE_SIGNIFIERS.len() + ID_SIGNIFIERS.len() + k) {
            continue;
        }
        if let Some(p) = s.find(sig) {
            // A priority signifier counts as a field when only fields follow it.
            if obsidian_only(&s[p + sig.len()..]) {
                best = best.min(p);
            }
        }
    }
    best
}

fn obsidian_only(rest: &str) -> bool {
    let r = rest.trim_start_matches('\u{FE0F}').trim();
    r.is_empty() || obsidian_fields_start(r) == 0
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

/// The first `YYYY-MM-DD` in a text.
pub(crate) fn first_date(s: &str) -> Option<String> {
    s.char_indices()
        .map(|(i, _)| &s[i..])
        .find(|t| is_date(t))
        .map(|t| t[..10].to_string())
}

fn parse_obsidian_fields(s: &str, out: &mut ItemText) {
    let mut i = 0;
    let b = s;
    while i < b.len() {
        let rest = &b[i..];
        let mut matched = false;
        for (sig, kind) in DATE_SIGNIFIERS {
            if let Some(after) = rest.strip_prefix(sig) {
                let a = after.trim_start_matches('\u{FE0F}').trim_start();
                if is_date(a) {
                    let d = a[..10].to_string();
                    match kind {
                        0 => out.due = Some(d),
                        1 => out.scheduled = Some(d),
                        2 => out.start = Some(d),
                        3 => out.completed = Some(d),
                        _ => {}
                    }
                    i += rest.len() - a.len() + 10;
                    matched = true;
                    break;
                }
            }
        }
        if matched {
            continue;
        }
        if let Some(after) = rest.strip_prefix("🆔") {
            let a = after.trim_start_matches('\u{FE0F}').trim_start();
            let id: String = a
                .chars()
                .take_while(|c| c.is_alphanumeric() || "-_".contains(*c))
                .collect();
            if !id.is_empty() {
                out.id = Some((id.clone(), IdStrength::Strong));
            }
            i += rest.len() - a.len() + id.len();
            continue;
        }
        if let Some(after) = rest.strip_prefix("⛔") {
            let a = after.trim_start_matches('\u{FE0F}').trim_start();
            let list: String = a
                .chars()
                .take_while(|c| c.is_alphanumeric() || "-_, ".contains(*c))
                .collect();
            let list = list.trim_end();
            for id in list.split(',').map(str::trim).filter(|x| !x.is_empty()) {
                // A space ends the id list unless a comma follows.
                let id = id.split_whitespace().next().unwrap_or(id);
                out.depends_on.push(DepRef::Id(id.to_string()));
            }
            i += rest.len() - a.len() + list.len();
            if list.is_empty() {
                // Nothing parsed after the sign: step over one whole character.
                i += a.chars().next().map_or(0, char::len_utf8);
            }
            continue;
        }
        if let Some(sig) = PRIORITY_SIGNIFIERS.iter().find(|s| rest.starts_with(**s)) {
            out.priority = Priority::parse(sig);
            i += sig.len();
            continue;
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
}

/// Strip status words and emoji from the end: `✅ **COMPLETED**`, `🔄 **IN PROGRESS**`,
/// `(READY)`, `- DONE`. Returns the length of what remains, the stripped span, and what
/// it declares (words win over emoji: `❌ Not Started` is not started).
fn strip_status_tail(
    s: &str,
    memo: &mut text::WordsMemo,
) -> (usize, Option<Range<usize>>, Option<Declared>) {
    let mut end = s.trim_end().len();
    let full_end = end;
    let mut words: Option<Declared> = None;
    let mut emoji: Option<Declared> = None;
    loop {
        let t = &s[..end];
        let t_trim = t.trim_end_matches(|c: char| c.is_whitespace());
        let e = t_trim.len();
        // **WORDS**
        if let Some(inner_end) = t_trim.strip_suffix("**")
            && let Some(open) = text::rfind(inner_end, "**")
            && let Some(d) = memo.declared(&inner_end[open + 2..])
        {
            words.get_or_insert(d);
            end = open;
            continue;
        }
        // (WORDS)
        if let Some(inner_end) = t_trim.strip_suffix(')')
            && let Some(open) = inner_end.rfind('(')
            && let Some(d) = memo.declared(&inner_end[open + 1..])
        {
            words.get_or_insert(d);
            end = open;
            continue;
        }
        // Emoji, with an optional variation selector.
        let mut chars = t_trim.char_indices().rev();
        if let Some((p, c)) = chars.next() {
            let (start, sym) = if c == '\u{FE0F}' {
                match chars.next() {
                    Some((q, _)) => (q, &t_trim[q..]),
                    None => (p, &t_trim[p..]),
                }
            } else {
                (p, &t_trim[p..])
            };
            if let Some(d) = Declared::from_emoji(sym) {
                emoji.get_or_insert(d);
                end = start;
                continue;
            }
        }
        // Bare upper-case words: `DONE`, `IN PROGRESS`.
        let (count, last) = last_word_starts(t_trim);
        let mut found = false;
        for n in [2usize, 1] {
            if count > n {
                let p = last[n - 1];
                let phrase = &t_trim[p..e];
                if phrase.chars().any(|c| c.is_ascii_uppercase())
                    && !phrase.chars().any(|c| c.is_lowercase())
                    && let Some(d) = memo.declared(phrase)
                {
                    words.get_or_insert(d);
                    end = p;
                    found = true;
                    break;
                }
            }
        }
        if found {
            continue;
        }
        // Separators left between title and markers.
        if (words.is_some() || emoji.is_some()) && end < full_end {
            let sep = t_trim.trim_end_matches(['-', '—', '–', '|', ':', '·']);
            if sep.len() < t_trim.len() && sep.ends_with(char::is_whitespace) {
                end = sep.trim_end().len();
                continue;
            }
        }
        end = e;
        break;
    }
    if end >= full_end {
        return (full_end, None, None);
    }
    // The span starts at the first marker (after the whitespace that separates it).
    let start = end + s[end..].len() - s[end..].trim_start().len();
    (end, Some(start..full_end), words.or(emoji))
}

/// Where the last words of `s` start (a word starts at a character that is not whitespace
/// and follows whitespace or the start): (number of words, at most 3; their starts, the
/// last word first). Read from the end, as far as needed.
fn last_word_starts(s: &str) -> (usize, [usize; 3]) {
    let mut count = 0;
    let mut last = [0usize; 3];
    let mut chars = s.char_indices().rev().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if chars
            .peek()
            .is_none_or(|&(_, before)| before.is_whitespace())
        {
            last[count] = i;
            count += 1;
            if count == 3 {
                break;
            }
        }
    }
    (count, last)
}

/// Remove emphasis markers (`**`, `__`, `~~`). Reports whether the whole text was struck
/// through (`~~Old idea~~`: a cancelled task).
pub(crate) fn clean_markup(s: &str) -> (Cow<'_, str>, bool) {
    let t = s.trim();
    (remove_all(t, EMPHASIS), struck_through(t))
}

/// The emphasis markers [`clean_markup`] removes.
const EMPHASIS: &[&str] = &["**", "__", "~~"];

/// `~~text~~` (trimmed text).
fn struck_through(t: &str) -> bool {
    t.len() > 4 && t.starts_with("~~") && t.ends_with("~~") && !t[2..t.len() - 2].contains("~~")
}

/// An id at the start of a title, and the title without it.
pub(crate) fn split_id(s: &str) -> (Option<(String, IdStrength)>, &str) {
    let t = s.trim_start();
    // `[id:TASK-1][type:docs]` prefixes.
    if let Some(rest) = t.strip_prefix("[id:")
        && let Some(e) = rest.find(']')
    {
        let id = rest[..e].trim().to_string();
        let mut after = &rest[e + 1..];
        while after.starts_with('[') {
            match after.find(']') {
                Some(k) => after = &after[k + 1..],
                None => break,
            }
        }
        return (Some((id, IdStrength::Strong)), after.trim_start());
    }
    // Keyword ids: `Step 7`, `Task 2.6`, `Phase 1`, `Step3`, `Step5-1`.
    const KEYWORDS: &[&str] = &[
        "step",
        "task",
        "phase",
        "story",
        "milestone",
        "epic",
        "stage",
        "item",
        "tc",
    ];
    // Only the start of the lower-cased text is compared. When its first `HEAD` bytes (more
    // than any keyword has) are ASCII, they are the ASCII lower case of the same bytes of
    // `t`, so those are compared case-insensitively; otherwise the whole text is
    // lower-cased.
    const HEAD: usize = 10;
    debug_assert!(KEYWORDS.iter().all(|k| k.len() < HEAD));
    let lower = if t.bytes().take(HEAD).all(|b| b.is_ascii()) {
        None
    } else {
        Some(t.to_lowercase())
    };
    for kw in KEYWORDS {
        let hit = match &lower {
            None => t
                .as_bytes()
                .get(..kw.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(kw.as_bytes())),
            // The keyword is sliced off `t` below, so the same bytes of `t` must be it: a
            // character whose lower case is shorter (the Kelvin sign `K` -> `k`) must not
            // shift the cut into the middle of a character.
            Some(lower) => {
                lower.starts_with(kw)
                    && t.get(..kw.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(kw))
            }
        };
        if hit {
            let after = &t[kw.len()..];
            let num_start = after.len() - after.trim_start_matches([' ', '-']).len();
            let rest = &after[num_start..];
            let n = rest
                .char_indices()
                .take_while(|(i, c)| c.is_ascii_digit() || (*i > 0 && (*c == '.' || *c == '-')))
                .map(|(i, c)| i + c.len_utf8())
                .last()
                .unwrap_or(0);
            let num = rest[..n].trim_end_matches(['.', '-']);
            if !num.is_empty() && num.starts_with(|c: char| c.is_ascii_digit()) {
                let tail = &rest[num.len()..];
                if tail.is_empty() || tail.starts_with([':', ' ', '.', ')', '-', '–', '—', ','])
                {
                    let sep = if num_start > 0 { " " } else { "" };
                    let mut id = String::with_capacity(kw.len() + sep.len() + num.len());
                    id.push_str(&t[..kw.len()]);
                    id.push_str(sep);
                    id.push_str(num);
                    let title = tail
                        .trim_start_matches([':', '.', ')', '-', '–', '—', ','])
                        .trim_start();
                    return (Some((id, IdStrength::Weak)), title);
                }
            }
        }
    }
    // Code ids: `CORE-001`, `REAL-TIME-001`, `T-12`, `SORT-001`, `TASK-20260203-005`, `T001`.
    let end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(t.len());
    let cand = &t[..end];
    let tail = &t[end..];
    let tail_ok = tail.is_empty() || tail.starts_with([':', ' ', ')', '.', ',']);
    if tail_ok && is_code_id(cand) {
        let title = tail.trim_start_matches([':', '.', ')', ',']).trim_start();
        let title = title.strip_prefix("[P]").map_or(title, str::trim_start);
        return (Some((cand.to_string(), IdStrength::Strong)), title);
    }
    // Outline numbers: `0.1`, `6.3`, `1.2.4` (a dot is required: plain `3.` is a list).
    let n = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let num = t[..n].trim_end_matches('.');
    if num.contains('.') && num.split('.').all(|p| !p.is_empty()) {
        let tail = &t[n..];
        if tail.is_empty() || tail.starts_with([' ', ':', ')']) {
            return (
                Some((num.to_string(), IdStrength::Weak)),
                tail.trim_start_matches([':', ')']).trim_start(),
            );
        }
    }
    (None, t)
}

/// `CORE-001`, `REAL-TIME-001`, `T-12`, `T001`: upper-case letters, then digits, joined by
/// hyphens; at least one digit and one letter.
pub(crate) fn is_code_id(s: &str) -> bool {
    if s.len() < 3 || s.len() > 40 || !s.starts_with(|c: char| c.is_ascii_uppercase()) {
        return false;
    }
    if s.chars().any(|c| c.is_ascii_lowercase()) {
        return false;
    }
    let has_digit = s.chars().any(|c| c.is_ascii_digit());
    let last_digit = s.ends_with(|c: char| c.is_ascii_digit())
        || s.ends_with(|c: char| c.is_ascii_uppercase()) && s.contains('-');
    let hyphen = s.contains('-');
    let t_form = s.starts_with('T') && s.len() >= 4 && s[1..].chars().all(|c| c.is_ascii_digit());
    has_digit && last_digit && (hyphen || t_form) && !s.split('-').any(str::is_empty)
}

/// One `Label: value` statement from a metadata line.
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LabelValue {
    pub label: String,
    pub value: String,
}

/// Split a metadata line into labelled values: `**Owner:** DevOps | **Effort:** 2 weeks`,
/// `Dependencies: Step 6 ✅`, `**Priority:** CRITICAL`. Labels are short (at most four
/// words) and start with a letter.
#[cfg(test)]
pub(crate) fn label_values(line: &str) -> Vec<LabelValue> {
    label_parts(&label_text(line))
        .map(|(label, value)| LabelValue {
            label: label.to_string(),
            value: value.to_string(),
        })
        .collect()
}

/// What [`label_parts`] reads of a metadata line: the line without these.
pub(crate) const LABEL_MARKUP: &[&str] = &["**", "__"];

/// A metadata line as [`label_parts`] reads it.
#[cfg(test)]
fn label_text(line: &str) -> Cow<'_, str> {
    remove_all(line, LABEL_MARKUP)
}

/// The (label, value) pairs of a line cleaned by [`label_text`]; see `label_values`.
pub(crate) fn label_parts(clean: &str) -> impl Iterator<Item = (&str, &str)> {
    text::split(clean, " | ").filter_map(|part| {
        let part = part.trim().trim_start_matches(['*', '_']).trim();
        let (label, value) = text::split_once_byte(part, b':')?;
        let label = label.trim().trim_matches(['*', '_', '`']).trim();
        if label.is_empty()
            || label.split_whitespace().count() > 4
            || !label.starts_with(char::is_alphabetic)
            || label
                .bytes()
                .any(|b| matches!(b, b'(' | b'`' | b'[' | b'/'))
            || value.starts_with("//")
        {
            return None;
        }
        Some((label, value.trim()))
    })
}

/// The metadata a label stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Dependencies,
    Owner,
    Effort,
    Priority,
    Status,
    Due,
    Tags,
    Other,
}

pub(crate) fn label_kind(label: &str) -> Label {
    with_lower(label, |l| label_kind_lower(l.trim()))
}

fn label_kind_lower(l: &str) -> Label {
    match l {
        "dependencies" | "dependency" | "depends on" | "depends" | "blocked by" | "requires"
        | "prerequisites" | "prerequisite" | "deps" | "dépendances" | "abhängigkeiten" => {
            Label::Dependencies
        }
        "owner" | "owners" | "assignee" | "assigned" | "assigned to" | "responsible" | "lead" => {
            Label::Owner
        }
        "effort" | "estimate" | "estimated effort" | "duration" | "estimated time" | "time"
        | "estimated hours" | "durée" | "aufwand" | "time estimate" => Label::Effort,
        "priority" | "priorité" | "priorität" => Label::Priority,
        "status" | "state" | "statut" => Label::Status,
        "due" | "deadline" | "due date" | "target date" => Label::Due,
        "tags" | "labels" => Label::Tags,
        _ => Label::Other,
    }
}

/// Parse a Dependencies value: ids separated by commas, `None`, `All previous tasks`.
/// Parenthesised notes and status emoji are ignored (`CORE-001 (API Layer)`, `Step 6 ✅`).
pub(crate) fn parse_deps(value: &str) -> Vec<DepRef> {
    let mut out = Vec::new();
    // Parentheses and what they hold are dropped (an unmatched `)` too).
    let cleaned = if value.bytes().any(|b| b == b'(' || b == b')') {
        let mut depth = 0;
        let mut cleaned = String::new();
        for c in value.chars() {
            match c {
                '(' => depth += 1,
                ')' => depth = (depth - 1).max(0),
                _ if depth == 0 => cleaned.push(c),
                _ => {}
            }
        }
        Cow::Owned(cleaned)
    } else {
        Cow::Borrowed(value)
    };
    let cleaned = remove_all(&cleaned, &["**", "`"]);
    if all_previous(cleaned.trim()) {
        return vec![DepRef::AllPrevious];
    }
    for part in cleaned
        .split([',', ';'])
        .flat_map(|p| text::split(p, " and "))
        .flat_map(|p| text::split(p, " & "))
    {
        let p = part
            .trim()
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .trim_start_matches(|c: char| !c.is_alphanumeric())
            .trim();
        let none = with_lower(p, |lp| {
            matches!(
                lp,
                "none" | "n/a" | "na" | "nothing" | "tbd" | "aucune" | "keine" | "-"
            ) || lp.starts_with("none")
        });
        if p.is_empty() || none {
            continue;
        }
        // Ranges of code ids: `T001-T005`.
        if let Some(range) = expand_range(p) {
            out.extend(range.into_iter().map(DepRef::Id));
            continue;
        }
        out.push(DepRef::Id(p.to_string()));
    }
    out
}

/// `All previous tasks`: whether the lower-cased text starts with `all previous` or
/// `all prior` or is `all of the above`. Compared by bytes, without lower-casing: outside
/// ASCII only `İ` (to `i` and a combining dot, and here an `i` is always followed by `o`) and
/// the Kelvin sign (to `k`, which these lack) lower-case to ASCII letters, so the text
/// must start with (or be) these very letters, in any case.
fn all_previous(t: &str) -> bool {
    let b = t.as_bytes();
    let starts = |p: &str| {
        b.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p.as_bytes()))
    };
    starts("all previous") || starts("all prior") || b.eq_ignore_ascii_case(b"all of the above")
}

fn expand_range(s: &str) -> Option<Vec<String>> {
    let (a, b) = s.split_once(['-', '–'])?;
    let (a, b) = (a.trim(), b.trim());
    let split = |x: &str| -> Option<(String, String)> {
        let p = x.find(|c: char| c.is_ascii_digit())?;
        (p > 0 && x[p..].chars().all(|c| c.is_ascii_digit()))
            .then(|| (x[..p].to_string(), x[p..].to_string()))
    };
    let (pa, na) = split(a)?;
    let (pb, nb) = split(b)?;
    if pa != pb || na.len() != nb.len() {
        return None;
    }
    let (x, y): (u32, u32) = (na.parse().ok()?, nb.parse().ok()?);
    if y < x || y - x > 200 {
        return None;
    }
    Some(
        (x..=y)
            .map(|k| format!("{pa}{k:0w$}", w = na.len()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn odd_comments_and_case_folding_never_panic() {
        // Found while speeding up the reader: `<!-->` is a whole (empty) comment, and the
        // Kelvin sign lower-cases to a shorter `k`.
        let it = parse_item("a <!--> b");
        assert_eq!(it.title, "a  b");
        let it = parse_item("a <!---> b <!-- id: x --> c");
        assert_eq!(it.id.map(|(id, _)| id), Some("x".to_string()));
        let _ = parse_item("tas\u{212A} 1");
        let _ = parse_item("\u{212A}ask 7: Kelvin");
    }

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn all_previous_matches_lower_casing(
            s in proptest::collection::vec(
                prop_oneof![
                    Just("all"), Just("ALL"), Just(" "), Just("previous"), Just("PREV"),
                    Just("İ"), Just("\u{212A}"), Just("ous"), Just("prior"), Just("Of"),
                    Just("the"), Just("above"), Just("é"), Just("a"),
                ],
                0..6,
            ).prop_map(|p| p.concat())
        ) {
            let lower = s.to_lowercase();
            let want = lower.starts_with("all previous")
                || lower.starts_with("all prior")
                || lower == "all of the above";
            prop_assert_eq!(all_previous(&s), want);
        }

        #[test]
        fn last_word_starts_are_the_last_of_all_word_starts(
            s in proptest::collection::vec(
                prop_oneof![Just("ab"), Just(" "), Just("\t"), Just("\u{a0}"), Just("✅"), Just("DONE")],
                0..10,
            ).prop_map(|p| p.concat())
        ) {
            // Every word start, from the front.
            let mut all = Vec::new();
            let mut prev_ws = true;
            for (i, c) in s.char_indices() {
                if !c.is_whitespace() && prev_ws {
                    all.push(i);
                }
                prev_ws = c.is_whitespace();
            }
            let (count, last) = last_word_starts(&s);
            prop_assert_eq!(count, all.len().min(3));
            for n in 0..count {
                prop_assert_eq!(last[n], all[all.len() - 1 - n]);
            }
        }
    }

    #[test]
    fn completed_step_with_emoji_and_bold_word() {
        let s = "Step 0.1: Usage Monitoring ✅ **COMPLETED**";
        let t = parse_item(s);
        assert_eq!(t.id, Some(("Step 0.1".into(), IdStrength::Weak)));
        assert_eq!(t.title, "Usage Monitoring");
        assert_eq!(t.declared, Some(Declared::Done));
        assert_eq!(&s[t.status_span.unwrap()], "✅ **COMPLETED**");
    }

    #[test]
    fn bold_step_with_in_progress_marker() {
        let s = "**Step 7: Test Coverage Reporting** 🔄 **IN PROGRESS**";
        let t = parse_item(s);
        assert_eq!(t.id, Some(("Step 7".into(), IdStrength::Weak)));
        assert_eq!(t.title, "Test Coverage Reporting");
        assert_eq!(t.declared, Some(Declared::InProgress));
        assert_eq!(&s[t.status_span.unwrap()], "🔄 **IN PROGRESS**");
    }

    #[test]
    fn words_win_over_emoji() {
        let t = parse_item("Thing ❌ NOT STARTED");
        assert_eq!(t.declared, Some(Declared::NotStarted));
        // Mixed-case words at the end of a title are part of the title.
        assert_eq!(parse_item("Help users Get Started").declared, None);
    }

    #[test]
    fn ordinary_words_in_a_title_are_not_status() {
        let t = parse_item("Add `/health/ready` - Readiness probe (checks dependencies)");
        assert_eq!(t.declared, None);
        let t = parse_item("**Enable Redis Caching** ⚡ Quick Win");
        assert_eq!(t.declared, None);
        assert_eq!(t.title, "Enable Redis Caching ⚡ Quick Win");
    }

    #[test]
    fn code_ids_and_heading_ids() {
        assert_eq!(
            split_id("CORE-001: FastAPI REST API Layer"),
            (
                Some(("CORE-001".into(), IdStrength::Strong)),
                "FastAPI REST API Layer"
            )
        );
        assert_eq!(
            split_id("REAL-TIME-001: Real-time").0.unwrap().0,
            "REAL-TIME-001"
        );
        assert_eq!(split_id("T012 [P] Create model").1, "Create model");
        assert_eq!(split_id("Step3 do it").0.unwrap().0, "Step3");
        assert_eq!(split_id("0.1 Remove stuff").0.unwrap().0, "0.1");
        assert_eq!(split_id("3. Scale Logic").0, None);
        assert_eq!(split_id("API Layer").0, None);
        assert_eq!(split_id("CI/CD Pipeline").0, None);
    }

    #[test]
    fn obsidian_fields_are_read_and_cut_from_the_title() {
        let t = parse_item("Build it ⏫ 🆔 abc123 ⛔ def456,ghi 📅 2024-05-01 ✅ 2024-05-02");
        assert_eq!(t.title, "Build it");
        assert_eq!(t.id, Some(("abc123".into(), IdStrength::Strong)));
        assert_eq!(
            t.depends_on,
            vec![DepRef::Id("def456".into()), DepRef::Id("ghi".into())]
        );
        assert_eq!(t.priority, Some(Priority::High));
        assert_eq!(t.due.as_deref(), Some("2024-05-01"));
        assert_eq!(t.completed.as_deref(), Some("2024-05-02"));
        assert_eq!(t.declared, None);
    }

    #[test]
    fn html_comment_ids_and_completion_dates() {
        let t = parse_item("Scale Logic <!-- id: scale --> <!-- Completed: 2025-01-15 -->");
        assert_eq!(t.id, Some(("scale".into(), IdStrength::Strong)));
        assert_eq!(t.completed.as_deref(), Some("2025-01-15"));
        assert_eq!(t.title, "Scale Logic");
    }

    #[test]
    fn a_depends_on_sign_followed_by_a_multibyte_character_does_not_panic() {
        // Found by fuzzing: `⛔` then U+FFFD used to slice inside the character.
        let t = parse_item("🆔 g7317o ⛔\u{FFFD}ya44g5");
        assert_eq!(t.id, Some(("g7317o".into(), IdStrength::Strong)));
        assert!(t.depends_on.is_empty());
    }

    #[test]
    fn struck_through_task_is_cancelled() {
        let t = parse_item("~~Old approach~~");
        assert_eq!(t.declared, Some(Declared::Cancelled));
        assert_eq!(t.title, "Old approach");
    }

    #[test]
    fn dependency_values() {
        assert_eq!(parse_deps("Step 6 ✅"), vec![DepRef::Id("Step 6".into())]);
        assert_eq!(parse_deps("None"), vec![]);
        assert_eq!(parse_deps("None (parallel with CORE-001)"), vec![]);
        assert_eq!(
            parse_deps("CORE-001 (API Layer), CORE-002 (Database)"),
            vec![DepRef::Id("CORE-001".into()), DepRef::Id("CORE-002".into())]
        );
        assert_eq!(parse_deps("All previous tasks"), vec![DepRef::AllPrevious]);
        assert_eq!(parse_deps("T001-T003").len(), 3);
    }

    #[test]
    fn metadata_lines_split_on_pipes() {
        let lv = label_values("**Owner:** DevOps | **Effort:** 2 weeks | **Priority:** P0");
        let labels: Vec<_> = lv
            .iter()
            .map(|l| (l.label.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(
            labels,
            [
                ("Owner", "DevOps"),
                ("Effort", "2 weeks"),
                ("Priority", "P0")
            ]
        );
        assert_eq!(
            label_values("Action: pytest-cov with 70% threshold")[0].label,
            "Action"
        );
        assert!(label_values("See https://example.com").is_empty());
    }
}
