//! What the block walk hands on: metadata lines, claims, section dependencies, code blocks
//! and stable ids. Each is read as the walk meets it, while the text and the task are fresh
//! in the cache; what needs the whole section tree or every id in the document is finished
//! after the walk ([`RunReader::finish`], [`IdAssigner::finish`]).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::num::NonZeroU32;
use std::ops::Range;

use taskman_core::plan::{SCOPE_STOPWORDS, words};
use taskman_core::{
    Claim, Declared, Effort, Field, Plan, Priority, Section, SectionDep, Status, StatusItem, Task,
};

use crate::TaskSpan;
use crate::claims;
use crate::inline::{self, IdStrength, Label};
use crate::reader::{CodeBlock, Run};
use crate::source::Source;
use crate::text::{self, slug};

/// Reads metadata, claims and section dependencies from the document's prose, one run of
/// text at a time as the walk ends it (the task it belongs to is then still in the cache),
/// and claims from its code blocks at the end ([`RunReader::finish`]).
#[derive(Default)]
pub(crate) struct RunReader {
    /// Labels with no value (`**Validation Command:**`) name the code block that follows:
    /// (end of the run, owner, label).
    pending: Vec<(usize, usize, String)>,
    scratch: text::Scratch,
    claims: Vec<Claim>,
    status_items: Vec<StatusItem>,
    /// Lines that may say one section depends on another, with the offset of ` depends on `
    /// and the line number: naming sections needs all of them, so these are read last.
    section_lines: Vec<(Range<usize>, usize, u32)>,
}

impl RunReader {
    /// Read one run of text.
    pub(crate) fn read(
        &mut self,
        src: &Source,
        run: &Run,
        tasks: &mut [Task],
        spans: &mut [TaskSpan],
    ) {
        let first = src.line_of(run.range.start);
        let last = src.line_of(run.range.end.saturating_sub(1).max(run.range.start));
        for l in first..=last {
            let lr = src.line_range(l);
            let start = if l == first {
                run.range.start.max(lr.start)
            } else {
                lr.start
            };
            let line = &src.text[start.min(lr.end)..lr.end];
            let title_line = run.task_item_first && l == first;
            let status_line = run.plain_item_first && l == first;
            // Most lines make no claim: skip making their plain text then.
            let may_claim = claims::may_have_claims(line);
            if may_claim || status_line {
                let plain = claims::plain_line(line, &mut self.scratch);
                if may_claim {
                    for (scope, kind) in claims::scan_plain_line(plain, false) {
                        self.claims.push(Claim {
                            line: l,
                            text: line.trim().to_string(),
                            scope,
                            section: run.section,
                            kind,
                        });
                    }
                }
                if status_line && let Some(kind) = claims::scan_plain_status_line(plain) {
                    self.claims.push(Claim {
                        line: l,
                        text: line.trim().to_string(),
                        scope: String::new(),
                        section: run.section,
                        kind,
                    });
                }
            }
            if status_line && let Some(item) = status_item(line, l) {
                self.status_items.push(item);
            }
            if let Some(p) = depends_on_at(line) {
                let at = start.min(lr.end);
                self.section_lines.push((at..lr.end, p, l));
            }
            if title_line {
                continue;
            }
            let Some(owner) = run.owner else { continue };
            // Every label ends with a colon.
            if text::find_byte(line, b':').is_none() {
                continue;
            }
            let value_base = start;
            let clean = text::remove_all_in(line, inline::LABEL_MARKUP, &mut self.scratch);
            for (label, value) in inline::label_parts(clean) {
                if value.is_empty() {
                    self.pending.push((run.range.end, owner, label.to_string()));
                    continue;
                }
                apply_label(tasks, spans, owner, label, value, l, src, line, value_base);
            }
        }
    }

    /// What needs the whole document: section dependencies, and claims and fields from
    /// code blocks. Everything read goes into `plan`, claims in line order.
    pub(crate) fn finish(self, src: &Source, code: &[CodeBlock], plan: &mut Plan) {
        plan.claims = self.claims;
        plan.status_items = self.status_items;
        if !self.section_lines.is_empty() {
            let mut index = SectionIndex::new(&plan.sections);
            for (range, p, l) in &self.section_lines {
                section_dependency(&src.text[range.clone()], *p, *l, plan, &mut index);
            }
        }
        let pending = self.pending;
        // Runs end in document order, so `pending` is sorted by end; then the label that
        // names a block is the last one ending before it, if only blank text lies between
        // (blank text before a later label means blank text before an earlier one). Checked,
        // not assumed: otherwise every label is looked at, as before.
        let sorted = pending.windows(2).all(|w| w[0].0 <= w[1].0);
        for c in code {
            let heading = c
                .section
                .map(|s| plan.sections[s].title.clone())
                .unwrap_or_default();
            let content = &src.text[c.content.clone()];
            let base = src.line_of(c.content.start);
            // The claims come in line order: walk the lines once alongside them.
            let mut lines = content.lines().enumerate().peekable();
            for (k, kind) in claims::scan_code(content, &heading) {
                while lines.next_if(|(j, _)| *j < k).is_some() {}
                let line_text = lines
                    .peek()
                    .filter(|(j, _)| *j == k)
                    .map_or("", |(_, t)| *t);
                plan.claims.push(Claim {
                    line: base + k as u32,
                    text: line_text.trim().to_string(),
                    scope: String::new(),
                    section: c.section,
                    kind,
                });
            }
            // `**Validation Command:**` then the block: a field of the task.
            let names = |(end, _, _): &&(usize, usize, String)| {
                *end <= c.range.start && src.text[*end..c.range.start].trim().is_empty()
            };
            let label = if sorted {
                let k = pending.partition_point(|(end, _, _)| *end <= c.range.start);
                k.checked_sub(1).map(|k| &pending[k]).filter(names)
            } else {
                pending.iter().rev().find(names)
            };
            if let Some((_, owner, label)) = label {
                plan.tasks[*owner].fields.push(Field {
                    name: label.clone(),
                    value: content.trim_end().to_string(),
                    line: base,
                });
            }
        }
        plan.claims.sort_by_key(|c| c.line);
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_label(
    tasks: &mut [Task],
    spans: &mut [TaskSpan],
    owner: usize,
    label: &str,
    value: &str,
    line: u32,
    src: &Source,
    text: &str,
    text_start: usize,
) {
    let t = &mut tasks[owner];
    match inline::label_kind(label) {
        Label::Dependencies => {
            let deps = inline::parse_deps(value);
            if t.depends_on.is_empty() {
                t.depends_on = deps;
            } else {
                t.depends_on.extend(deps);
            }
            t.deps_line = Some(line);
        }
        Label::Owner => {
            t.owner
                .get_or_insert_with(|| value.trim_matches(['*', '_', '`']).trim().to_string());
        }
        Label::Effort => {
            if let Some(e) = Effort::parse(value) {
                t.effort.get_or_insert(e);
            }
        }
        Label::Priority => {
            if let Some(p) = Priority::parse(value) {
                t.priority.get_or_insert(p);
            }
        }
        Label::Status => {
            if let Some(d) = status_value(value) {
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
                if let Some(p) = text.find(value) {
                    let r = text_start + p..text_start + p + value.len();
                    spans[owner].status_line = Some(src.to_orig_range(&r));
                }
            }
        }
        Label::Due => {
            if let Some(d) = inline::first_date(value) {
                t.due.get_or_insert(d);
            }
        }
        Label::Tags => {
            t.tags.extend(
                value
                    .split([',', ' '])
                    .map(|s| s.trim().trim_start_matches('#').to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
        Label::Other => t.fields.push(Field {
            name: label.to_string(),
            value: value.to_string(),
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
fn status_item(text: &str, line: u32) -> Option<StatusItem> {
    let t = text.trim_start();
    let first = t.split_whitespace().next()?;
    let d = Declared::from_emoji(first)?;
    let (title, _) = inline::clean_markup(&t[first.len()..]);
    Some(StatusItem {
        title: title.trim().to_string(),
        declared: d,
        line,
    })
}

const DEPENDS_ON: &str = " depends on ";

/// Where the lower-cased line says ` depends on `. ASCII text keeps its offsets when
/// lower-cased, so it is searched in place.
fn depends_on_at(text: &str) -> Option<usize> {
    let at = text
        .as_bytes()
        .windows(DEPENDS_ON.len())
        .position(|w| w[0] == b' ' && w.eq_ignore_ascii_case(DEPENDS_ON.as_bytes()));
    if text.is_ascii() {
        return at;
    }
    // Other text can change length when lower-cased, so the offset is found there; but
    // only where the words are: outside ASCII only `İ` and the Kelvin sign lower-case to
    // ASCII letters (`i`, `k`), which ` depends on ` lacks.
    at?;
    text.to_lowercase().find(DEPENDS_ON)
}

/// `Phase 2 depends on Phase 1 (...)`: every task of one section waits for the other's.
/// `p` is [`depends_on_at`] of the line; `found` remembers which section words name.
fn section_dependency(
    text: &str,
    p: usize,
    line: u32,
    plan: &mut Plan,
    sections: &mut SectionIndex,
) {
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
    if let (Some(d), Some(q)) = (sections.find(left), sections.find(right))
        && d != q
    {
        plan.section_deps.push(SectionDep {
            dependent: d,
            prerequisite: q,
            line,
        });
    }
}

/// `Plan::find_section` for many lookups. `find_section` reads every section title for
/// every lookup, so a plan with a "depends on" line per section took time growing with the
/// square of its size. Here the words of each title are found once, and only the sections
/// holding the rarest wanted word are scored (a section holding every wanted word holds
/// that one), in order, with the same score: the same section wins.
struct SectionIndex {
    titles: Vec<Vec<String>>,
    /// Word -> the sections whose title has it, in order.
    by_word: HashMap<String, Vec<usize>>,
    /// Answers given, by label.
    found: HashMap<String, Option<usize>>,
}

impl SectionIndex {
    fn new(sections: &[Section]) -> SectionIndex {
        let titles: Vec<Vec<String>> = sections.iter().map(|s| words(&s.title)).collect();
        let mut by_word: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, title) in titles.iter().enumerate() {
            for w in title {
                let list = by_word.entry(w.clone()).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        SectionIndex {
            titles,
            by_word,
            found: HashMap::new(),
        }
    }

    /// `plan.find_section(label)`.
    fn find(&mut self, label: &str) -> Option<usize> {
        if let Some(&s) = self.found.get(label) {
            return s;
        }
        let s = self.score(label);
        self.found.insert(label.to_string(), s);
        s
    }

    fn score(&self, label: &str) -> Option<usize> {
        let want: Vec<String> = words(label)
            .into_iter()
            .filter(|w| !SCOPE_STOPWORDS.contains(&w.as_str()))
            .collect();
        if want.is_empty() {
            return None;
        }
        let candidates = want
            .iter()
            .map(|w| self.by_word.get(w).map_or(&[][..], Vec::as_slice))
            .min_by_key(|c| c.len())?;
        let mut best: Option<(usize, (bool, usize))> = None;
        for &i in candidates {
            let mut have = self.titles[i].clone();
            // As in `Plan::find_section`.
            let scattered = !have.windows(want.len()).any(|w| w == want.as_slice());
            let all = want.iter().all(|w| match have.iter().position(|h| h == w) {
                Some(p) => {
                    have.remove(p);
                    true
                }
                None => false,
            });
            let score = (scattered, have.len());
            if all && best.is_none_or(|(_, b)| score < b) {
                best = Some((i, score));
            }
        }
        best.map(|(i, _)| i)
    }
}

/// Gives every task a stable, unique id. Ids written in the document are kept; a repeated
/// strong id whose title matches the first is a mirror (a timeline entry for the same
/// task); a repeated weak id (`Step 1` under every Task) is scoped by its section; other
/// tasks get `section/title` slugs, once every id written in the document is known.
///
/// Tasks are added in order as the walk makes them, while they are still in the cache:
/// what a task's id depends on (ids written so far, its parent's and its section's) is known
/// by then. A slug is given to its task at once, and [`IdAssigner::finish`] changes it only
/// when the slug is taken (by an id written further on, or an earlier slug).
pub(crate) struct IdAssigner {
    ids: Ids,
    section_slugs: Vec<Option<String>>,
    /// The tasks that get slug ids, in order, with their slug in `bases`.
    slugs: Vec<(usize, Range<usize>)>,
    bases: String,
    base: String,
}

impl IdAssigner {
    pub(crate) fn with_capacity(n: usize) -> IdAssigner {
        IdAssigner {
            ids: Ids::with_capacity(n),
            section_slugs: Vec::new(),
            slugs: Vec::with_capacity(n),
            bases: String::new(),
            base: String::new(),
        }
    }

    /// Add task `i`, the last made, whose section is in `sections`. `strength` is that of
    /// the id written in the document, if any.
    pub(crate) fn add(
        &mut self,
        tasks: &mut [Task],
        sections: &[Section],
        i: usize,
        strength: Option<IdStrength>,
    ) {
        debug_assert_eq!(tasks[i].explicit_id, strength.is_some());
        let needs_slug = match strength {
            None => true,
            Some(strength) => self.written(tasks, sections, i, strength),
        };
        if !needs_slug {
            return;
        }
        self.base.clear();
        context(tasks, sections, i, &mut self.section_slugs, &mut self.base);
        if !self.base.is_empty() {
            self.base.push('/');
        }
        let title_at = self.base.len();
        text::slug_into(&tasks[i].title, 48, &mut self.base);
        if self.base.len() == title_at {
            self.base.push_str("task");
        }
        let start = self.bases.len();
        self.bases.push_str(&self.base);
        self.slugs.push((i, start..self.bases.len()));
        // Its id, unless the slug turns out to be taken.
        tasks[i].id = self.base.clone();
    }

    /// An id written in the document: kept, scoped or suffixed when repeated. True when the
    /// task is a mirror and gets a slug instead.
    fn written(
        &mut self,
        tasks: &mut [Task],
        sections: &[Section],
        i: usize,
        strength: IdStrength,
    ) -> bool {
        let (e, _) = self.ids.find_or_insert(&tasks[i].id);
        let j = match self.ids.entries[e].first_title {
            Some(j) => minus_one(j),
            None => {
                self.ids.entries[e].first_title = plus_one(i);
                return false;
            }
        };
        let strong = strength == IdStrength::Strong;
        if strong && same_task(&tasks[j].title, &tasks[i].title) {
            tasks[i].mirror_of = Some(tasks[j].id.clone());
            tasks[i].explicit_id = false;
            return true;
        }
        if !strong {
            let mut base = String::new();
            context(tasks, sections, i, &mut self.section_slugs, &mut base);
            base.push('/');
            base.push_str(&tasks[i].id);
            tasks[i].id = self.ids.unique(&base, "#");
        } else {
            // A repeated strong id with another title: still addressable as `ID#2`, and
            // lint reports the duplicate.
            let base = tasks[i].id.clone();
            tasks[i].id = self.ids.unique(&base, "#");
        }
        false
    }

    /// Make the slugs unique, in task order, after every id written in the document.
    pub(crate) fn finish(self, tasks: &mut [Task]) {
        let IdAssigner {
            mut ids,
            slugs,
            bases,
            ..
        } = self;
        for (i, range) in slugs {
            if let Some(id) = ids.unique_suffixed(&bases[range], "-") {
                tasks[i].id = id;
            }
        }
    }
}

/// The ids given out so far, by their normalized form (`ids::normalize`): a set of strings
/// kept in one buffer, so that it costs no allocation per id.
struct Ids {
    /// The normalized ids, back to back.
    text: String,
    entries: Vec<IdEntry>,
    /// Hash of a normalized id -> its entry; entries with the same hash are chained.
    index: HashMap<u64, usize, BuildHasherDefault<HashIsKey>>,
    hasher: RandomState,
    /// Scratch space for normalizing.
    buf: String,
}

/// One id (32 bytes: many are looked up in no particular order, so small is fast).
struct IdEntry {
    range: Range<usize>,
    /// The next entry with the same hash, plus one.
    next: Option<NonZeroU32>,
    /// The first task that wrote this id itself, plus one.
    first_title: Option<NonZeroU32>,
    /// Next suffix to try for this base, so n tasks sharing a base cost O(n), not O(n²).
    next_suffix: Option<NonZeroU32>,
}

/// `i + 1` as a `NonZeroU32` (task and entry numbers stay far below `u32::MAX`).
fn plus_one(i: usize) -> Option<NonZeroU32> {
    u32::try_from(i + 1).ok().and_then(NonZeroU32::new)
}

/// The index `plus_one` was given.
fn minus_one(n: NonZeroU32) -> usize {
    n.get() as usize - 1
}

impl Ids {
    fn with_capacity(n: usize) -> Ids {
        Ids {
            text: String::new(),
            entries: Vec::with_capacity(n),
            index: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            hasher: RandomState::new(),
            buf: String::new(),
        }
    }

    /// The entry of the normalized id in `buf`, added if new (and then true).
    fn find_or_insert_buf(&mut self) -> (usize, bool) {
        let key = self.buf.as_str();
        let hash = self.hasher.hash_one(key);
        let head = self.index.get(&hash).copied();
        let mut at = head;
        while let Some(e) = at {
            if &self.text[self.entries[e].range.clone()] == key {
                return (e, false);
            }
            at = self.entries[e].next.map(minus_one);
        }
        let start = self.text.len();
        self.text.push_str(key);
        self.entries.push(IdEntry {
            range: start..self.text.len(),
            next: head.and_then(plus_one),
            first_title: None,
            next_suffix: None,
        });
        let e = self.entries.len() - 1;
        self.index.insert(hash, e);
        (e, true)
    }

    /// The entry of `id`'s normalized form, added if new (and then true).
    fn find_or_insert(&mut self, id: &str) -> (usize, bool) {
        text::normalize_into(id, &mut self.buf);
        self.find_or_insert_buf()
    }

    /// `base` if unused, else `base{sep}2`, `base{sep}3`, ..., resuming where the last
    /// search for this base stopped.
    fn unique(&mut self, base: &str, sep: &str) -> String {
        self.unique_suffixed(base, sep)
            .unwrap_or_else(|| base.to_string())
    }

    /// [`Ids::unique`], but None when that is `base` itself.
    fn unique_suffixed(&mut self, base: &str, sep: &str) -> Option<String> {
        let (e, new) = self.find_or_insert(base);
        if new {
            self.entries[e].next_suffix = NonZeroU32::new(2);
            return None;
        }
        let mut k = self.entries[e].next_suffix.map_or(2, |k| k.get() as usize);
        loop {
            let id = format!("{base}{sep}{k}");
            k += 1;
            if self.find_or_insert(&id).1 {
                self.entries[e].next_suffix = u32::try_from(k).ok().and_then(NonZeroU32::new);
                return Some(id);
            }
        }
    }
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct HashIsKey(u64);

impl Hasher for HashIsKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// The id prefix for a task, appended to `out`: its parent's explicit id, or its section's
/// heading-task id, or a slug of its section title (kept in `section_slugs`).
fn context(
    tasks: &[Task],
    sections: &[Section],
    i: usize,
    section_slugs: &mut Vec<Option<String>>,
    out: &mut String,
) {
    let t = &tasks[i];
    if let Some(p) = t.parent
        && tasks[p].explicit_id
    {
        out.push_str(&tasks[p].id);
        return;
    }
    if let Some(s) = t.section {
        match sections[s].task {
            Some(ht) if ht != i && tasks[ht].explicit_id => out.push_str(&tasks[ht].id),
            _ => {
                if section_slugs.len() <= s {
                    section_slugs.resize(s + 1, None);
                }
                out.push_str(section_slugs[s].get_or_insert_with(|| slug(&sections[s].title, 32)));
            }
        }
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
    use proptest::prelude::*;

    fn words_of(n: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("Phase"),
                Just("phase"),
                Just("Week"),
                Just("1"),
                Just("2"),
                Just("3"),
                Just("Overall"),
                Just("Progress"),
                Just("Tasks"),
                Just("Foundation"),
                Just("(2-3 weeks)"),
                Just("Month"),
                Just("Sprint"),
                Just("🎯"),
                Just("-"),
                Just(":"),
                Just("Step"),
            ],
            0..n,
        )
        .prop_map(|w| w.join(" "))
    }

    proptest! {
        #[test]
        fn the_section_index_finds_what_find_section_finds(
            titles in proptest::collection::vec(words_of(6), 0..12),
            labels in proptest::collection::vec(words_of(4), 1..6),
        ) {
            let plan = taskman_core::Plan {
                sections: titles
                    .into_iter()
                    .map(|title| taskman_core::Section {
                        title,
                        level: 2,
                        line: 1,
                        parent: None,
                        task: None,
                        declared: None,
                    })
                    .collect(),
                ..taskman_core::Plan::default()
            };
            let mut index = super::SectionIndex::new(&plan.sections);
            for label in labels.iter().chain(&labels) {
                prop_assert_eq!(index.find(label), plan.find_section(label));
            }
        }

        #[test]
        fn depends_on_is_found_where_lower_casing_finds_it(
            s in proptest::collection::vec(
                prop_oneof![
                    Just("Phase 2"), Just(" depends on "), Just(" DEPENDS On "), Just(" depends"),
                    Just(" on "), Just("İ"), Just("\u{212A}"), Just("Σ"), Just("✅"), Just("ẞ"),
                    Just("a"), Just(" "),
                ],
                0..8,
            ).prop_map(|p| p.concat())
        ) {
            prop_assert_eq!(super::depends_on_at(&s), s.to_lowercase().find(super::DEPENDS_ON));
        }
    }

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
