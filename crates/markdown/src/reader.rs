//! The reader: CommonMark/GFM block structure (pulldown-cmark) decides what is a heading,
//! a list item, code or HTML; this module turns that structure into sections and tasks.
//!
//! What counts as a task follows CommonMark + GFM task lists: items inside fenced or
//! indented code, HTML blocks and inline code are text, not tasks. On top of GFM it
//! accepts Obsidian's alternate markers (`[/]`, `[-]`, `[>]`, ...) and headings that are
//! tasks (`#### ☐ CORE-001: ...`). Obsidian `%% comments %%` hide tasks, as in Obsidian.

use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};
use taskman_core::{Declared, Section, Status, Task, TaskKind};

use crate::inline::{self, ItemText};
use crate::post::{IdAssigner, RunReader};
use crate::source::Source;
use crate::text::{self, Scratch};
use crate::{Diagnostic, TaskSpan};

/// A run of inline text (a paragraph, an item's text, a heading is handled apart).
pub(crate) struct Run {
    pub range: Range<usize>,
    /// The task that owns this text: the item's own task, the nearest task item around
    /// it, or the heading task of the section it stands in.
    pub owner: Option<usize>,
    /// The run is the first text of a list item that is not a task.
    pub plain_item_first: bool,
    /// The run is the first text of a task item (its title line).
    pub task_item_first: bool,
    pub section: Option<usize>,
}

pub(crate) struct CodeBlock {
    pub range: Range<usize>,
    pub content: Range<usize>,
    pub section: Option<usize>,
}

pub(crate) struct Walk {
    pub sections: Vec<Section>,
    pub tasks: Vec<Task>,
    /// Per task: where its editable parts sit in the original bytes.
    pub spans: Vec<TaskSpan>,
    /// Task ids, given as the tasks are made.
    pub ids: IdAssigner,
    /// What the runs of text said, read as the walk ended each.
    pub runs: RunReader,
    pub code: Vec<CodeBlock>,
    pub title: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ItemState {
    Pending,
    Task(usize),
    Plain,
}

struct Frame {
    state: ItemState,
    first_run_done: bool,
}

pub(crate) fn walk(src: &Source, diags: &mut [Diagnostic]) -> Walk {
    let text: &str = &src.text;
    let opts = Options::ENABLE_TASKLISTS
        | Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let hidden = percent_comments(text);
    let expected = estimate_tasks(src);
    let mut w = Walk {
        sections: Vec::new(),
        tasks: Vec::with_capacity(expected),
        spans: Vec::with_capacity(expected),
        ids: IdAssigner::with_capacity(expected),
        runs: RunReader::default(),
        code: Vec::new(),
        title: None,
    };
    let mut scratch = Scratch::default();
    let mut section_stack: Vec<(u8, usize)> = Vec::new();
    let mut frames: Vec<Frame> = Vec::new();
    let mut run: Option<Run> = None;
    let mut code: Option<(usize, Option<Range<usize>>)> = None;
    let mut in_table = 0usize;
    let mut in_meta = false;
    let mut in_heading = false;

    let current_section = |stack: &Vec<(u8, usize)>| stack.last().map(|&(_, s)| s);

    for (ev, range) in Parser::new_ext(text, opts).into_offset_iter() {
        let inline = matches!(
            ev,
            Event::Text(_)
                | Event::Code(_)
                | Event::InlineHtml(_)
                | Event::SoftBreak
                | Event::HardBreak
                | Event::FootnoteReference(_)
                | Event::InlineMath(_)
                | Event::Start(
                    Tag::Emphasis
                        | Tag::Strong
                        | Tag::Strikethrough
                        | Tag::Link { .. }
                        | Tag::Image { .. }
                        | Tag::Superscript
                        | Tag::Subscript
                )
                | Event::End(
                    TagEnd::Emphasis
                        | TagEnd::Strong
                        | TagEnd::Strikethrough
                        | TagEnd::Link
                        | TagEnd::Image
                        | TagEnd::Superscript
                        | TagEnd::Subscript
                )
        ) || matches!(ev, Event::TaskListMarker(_));

        if let Some((_, content)) = &mut code {
            match ev {
                Event::End(TagEnd::CodeBlock) => {
                    let (start, content) = code.take().unwrap_or((range.start, None));
                    let section = current_section(&section_stack);
                    w.code.push(CodeBlock {
                        range: start..range.end,
                        content: content.unwrap_or(range.end..range.end),
                        section,
                    });
                }
                Event::Text(_) => {
                    *content = Some(match content.take() {
                        Some(c) => c.start..range.end,
                        None => range.clone(),
                    });
                }
                _ => {}
            }
            continue;
        }
        if in_meta {
            if matches!(ev, Event::End(TagEnd::MetadataBlock(_))) {
                in_meta = false;
            }
            continue;
        }
        if in_heading {
            if matches!(ev, Event::End(TagEnd::Heading(_))) {
                in_heading = false;
            }
            continue;
        }

        if inline {
            if in_table > 0 {
                continue;
            }
            if frames.last().is_some_and(|f| f.state == ItemState::Pending) {
                {
                    let marker = match ev {
                        // GFM: `- [ ]` with nothing after it is not a task item.
                        Event::TaskListMarker(_) => Some(range.start).filter(|_| {
                            let end = src.line_range(src.line_of(range.start)).end;
                            !text[range.end.min(end)..end].trim().is_empty()
                        }),
                        _ => alternate_marker(text, range.start).then_some(range.start),
                    };
                    let state = match marker {
                        Some(m) if !in_hidden(&hidden, m) => {
                            let parent = frames[..frames.len() - 1]
                                .iter()
                                .rev()
                                .find_map(|f| match f.state {
                                    ItemState::Task(t) => Some(t),
                                    _ => None,
                                })
                                .or_else(|| {
                                    section_task(&w.sections, current_section(&section_stack))
                                });
                            let t = add_item_task(
                                src,
                                &mut w,
                                &mut scratch,
                                m,
                                parent,
                                current_section(&section_stack),
                            );
                            ItemState::Task(t)
                        }
                        _ => ItemState::Plain,
                    };
                    if let Some(f) = frames.last_mut() {
                        f.state = state;
                    }
                }
            }
            if matches!(ev, Event::TaskListMarker(_)) {
                continue;
            }
            match &mut run {
                Some(r) => r.range.end = range.end,
                None => {
                    let section = current_section(&section_stack);
                    let (plain_first, task_first) = match frames.last_mut() {
                        Some(f) if !f.first_run_done => {
                            f.first_run_done = true;
                            (
                                f.state == ItemState::Plain,
                                matches!(f.state, ItemState::Task(_)),
                            )
                        }
                        _ => (false, false),
                    };
                    run = Some(Run {
                        range: range.clone(),
                        owner: nearest_task(&frames).or_else(|| section_task(&w.sections, section)),
                        plain_item_first: plain_first,
                        task_item_first: task_first,
                        section,
                    });
                }
            }
            continue;
        }

        // A block-level event ends any run of inline text.
        if let Some(r) = run.take() {
            w.runs.read(src, &r, &mut w.tasks, &mut w.spans);
        }
        if let Some(f) = frames.last_mut()
            && f.state == ItemState::Pending
            && matches!(ev, Event::Start(_) | Event::End(TagEnd::Item))
            && !matches!(ev, Event::Start(Tag::Paragraph))
        {
            f.state = ItemState::Plain;
            f.first_run_done = true;
        }
        match ev {
            Event::Start(Tag::Item) => frames.push(Frame {
                state: ItemState::Pending,
                first_run_done: false,
            }),
            Event::End(TagEnd::Item) => {
                frames.pop();
            }
            Event::Start(Tag::Heading { level, .. }) => {
                in_heading = true;
                let level = level as u8;
                while section_stack.last().is_some_and(|&(l, _)| l >= level) {
                    section_stack.pop();
                }
                let parent = current_section(&section_stack);
                let s = add_heading(src, &mut w, &mut scratch, range.start, level, parent, diags);
                section_stack.push((level, s));
            }
            Event::Start(Tag::CodeBlock(kind)) => {
                let _ = matches!(kind, CodeBlockKind::Indented);
                code = Some((range.start, None));
            }
            Event::Start(Tag::Table(_)) => in_table += 1,
            Event::End(TagEnd::Table) => in_table = in_table.saturating_sub(1),
            Event::Start(Tag::MetadataBlock(_)) => in_meta = true,
            _ => {}
        }
    }
    if let Some(r) = run.take() {
        w.runs.read(src, &r, &mut w.tasks, &mut w.spans);
    }
    // The estimate is a hint: give back what it overshot by much.
    if w.tasks.capacity() > w.tasks.len() + w.tasks.len() / 4 + 16 {
        w.tasks.shrink_to_fit();
        w.spans.shrink_to_fit();
    }
    w
}

fn nearest_task(frames: &[Frame]) -> Option<usize> {
    frames.iter().rev().find_map(|f| match f.state {
        ItemState::Task(t) => Some(t),
        _ => None,
    })
}

/// The heading task of `section` or of the nearest section above it that is a task.
fn section_task(sections: &[Section], mut section: Option<usize>) -> Option<usize> {
    while let Some(s) = section {
        if let Some(t) = sections[s].task {
            return Some(t);
        }
        section = sections[s].parent;
    }
    None
}

/// `[c]` followed by a space, tab or line end, where `c` is one character other than a
/// space, `x` or `X` (those are GFM's own markers, reported by the parser), and not `]`.
fn alternate_marker(text: &str, at: usize) -> bool {
    let rest = &text[at..];
    let Some(inner) = rest.strip_prefix('[') else {
        return false;
    };
    // A marker has at most two characters: a `]` further on (or none) is no marker, so look
    // no further (looking to the next `]` anywhere made lines of `- [` quadratic).
    let Some((close, _)) = inner.char_indices().take(3).find(|&(_, c)| c == ']') else {
        return false;
    };
    let marker = &inner[..close];
    if marker.is_empty() || marker.contains(['[', '\n']) || marker.chars().count() > 2 {
        return false;
    }
    let mut cs = marker.chars();
    let first = cs.next().unwrap_or(' ');
    if let Some(second) = cs.next() {
        // Emoji markers like `[⏸️]` carry a variation selector.
        if second != '\u{FE0F}' {
            return false;
        }
    }
    if first.is_whitespace() {
        return false;
    }
    // The task's text must be on the same line.
    let after = &inner[close + 1..];
    let after = &after[..after.find(['\n', '\r']).unwrap_or(after.len())];
    after.starts_with([' ', '\t']) && !after.trim_start().is_empty()
}

fn add_item_task(
    src: &Source,
    w: &mut Walk,
    scratch: &mut Scratch,
    marker_at: usize,
    parent: Option<usize>,
    section: Option<usize>,
) -> usize {
    let text: &str = &src.text;
    let close = marker_at + text::find_byte(&text[marker_at..], b']').unwrap_or(1);
    let marker = &text[marker_at + 1..close];
    let line = src.line_of(marker_at);
    let line_range = src.line_range(line);
    let mut content_start = close + 1;
    while content_start < line_range.end && matches!(text.as_bytes()[content_start], b' ' | b'\t') {
        content_start += 1;
    }
    let content_start = content_start.min(line_range.end);
    let content = &text[content_start..line_range.end];
    let it = inline::parse_item_in(content, scratch);
    let status = Status::from_marker(marker).refined_by(it.declared);
    let idx = w.tasks.len();
    let id_strength = it.id.as_ref().map(|(_, s)| *s);
    let status_span = it.status_span.clone();
    let depth = parent.map_or(0, |p| w.tasks[p].depth + 1);
    let t = push_task(&mut w.tasks, it, line, status, marker, TaskKind::Item);
    t.parent = parent;
    t.depth = depth;
    t.section = section;
    w.spans.push(TaskSpan {
        marker: src.to_orig_range(&(marker_at + 1..close)),
        line_end: src.to_orig(line_range.end),
        status: status_span
            .map(|r| src.to_orig_range(&(content_start + r.start..content_start + r.end))),
        status_line: None,
    });
    w.ids.add(&mut w.tasks, &w.sections, idx, id_strength);
    idx
}

/// Add the task an item's text describes, and give it back to finish (filled in place: a
/// task is large, and each move of it is a copy).
fn push_task<'a>(
    tasks: &'a mut Vec<Task>,
    it: ItemText,
    line: u32,
    status: Status,
    marker: &str,
    kind: TaskKind,
) -> &'a mut Task {
    let (id, explicit) = match it.id {
        Some((id, _)) => (id, true),
        None => (String::new(), false),
    };
    tasks.push(Task::new(id, it.title, line));
    let last = tasks.len() - 1;
    let t = &mut tasks[last];
    t.explicit_id = explicit;
    t.status = status;
    // Reuse the default marker's buffer: one allocation fewer per task.
    t.marker.clear();
    t.marker.push_str(marker);
    t.declared = it.declared;
    t.kind = kind;
    t.priority = it.priority;
    t.effort = it.effort;
    t.tags = it.tags;
    t.depends_on = it.depends_on;
    if !t.depends_on.is_empty() {
        t.deps_line = Some(line);
    }
    t.due = it.due;
    t.start = it.start;
    t.scheduled = it.scheduled;
    t.completed = it.completed;
    t
}

const BALLOT_TODO: &[&str] = &["☐", "⬜", "🔲", "[ ]"];
const BALLOT_DONE: &[&str] = &["☑", "☒", "[x]", "[X]"];

fn add_heading(
    src: &Source,
    w: &mut Walk,
    scratch: &mut Scratch,
    start: usize,
    level: u8,
    parent: Option<usize>,
    _diags: &mut [Diagnostic],
) -> usize {
    let line = src.line_of(start);
    let lr = src.line_range(line);
    let raw = &src.text[lr.clone()];
    // Strip the ATX opening and closing sequences; setext headings are the line itself.
    let mut body_start = lr.start + (raw.len() - raw.trim_start().len());
    let trimmed = raw.trim_start();
    if trimmed.starts_with('#') {
        let hashes = trimmed.len() - trimmed.trim_start_matches('#').len();
        body_start += hashes;
        while body_start < lr.end && matches!(src.text.as_bytes()[body_start], b' ' | b'\t') {
            body_start += 1;
        }
    }
    let mut body = &src.text[body_start..lr.end];
    let closing = body.trim_end().trim_end_matches('#');
    if closing.len() < body.trim_end().len() && (closing.is_empty() || closing.ends_with(' ')) {
        body = closing;
    }
    let section = w.sections.len();

    // A heading that is a task: a ballot box first.
    let lead = body.trim_start();
    let lead_off = body_start + (body.len() - lead.len());
    let ballot = BALLOT_TODO
        .iter()
        .map(|b| (b, Status::Todo))
        .chain(BALLOT_DONE.iter().map(|b| (b, Status::Done)))
        .find(|(b, _)| lead.starts_with(**b));
    let mut task = None;
    let mut task_strength = None;
    if let Some((b, st)) = ballot {
        let after = &lead[b.len()..];
        let after = after.trim_start_matches('\u{FE0F}');
        if after.starts_with([' ', '\t']) && !after.trim().is_empty() {
            let content_start = lead_off + (lead.len() - after.trim_start().len());
            let content = &src.text[content_start..content_start + after.trim_start().len()];
            let it = inline::parse_item_in(content, scratch);
            let status = st.refined_by(it.declared);
            let idx = w.tasks.len();
            let id_strength = it.id.as_ref().map(|(_, s)| *s);
            let status_span = it.status_span.clone();
            let task_parent = parent.and_then(|p| section_task(&w.sections, Some(p)));
            let depth = task_parent.map_or(0, |p| w.tasks[p].depth + 1);
            let t = push_task(&mut w.tasks, it, line, status, b, TaskKind::Heading);
            t.parent = task_parent;
            t.depth = depth;
            t.section = Some(section);
            let marker = lead_off..lead_off + b.len();
            task_strength = id_strength;
            w.spans.push(TaskSpan {
                marker: src.to_orig_range(&marker),
                line_end: src.to_orig(lr.end),
                status: status_span
                    .map(|r| src.to_orig_range(&(content_start + r.start..content_start + r.end))),
                status_line: None,
            });
            task = Some(idx);
        }
    }

    // The section title: without emphasis, a leading status emoji or trailing status.
    let (clean, _) = inline::clean_markup(body);
    let mut declared = None;
    let mut title = clean.trim().to_string();
    if let Some(first) = title.split_whitespace().next()
        && let Some(d) = Declared::from_emoji(first)
    {
        declared = Some(d);
        title = title[first.len()..].trim_start().to_string();
    }
    let it = inline::parse_item_in(&title, scratch);
    if let (Some(span), Some(d)) = (it.status_span.clone(), it.declared) {
        declared = Some(d);
        title = title[..span.start].trim_end().to_string();
    }
    if task.is_some() {
        declared = None;
    }
    if level == 1 && w.title.is_none() {
        w.title = Some(title.clone());
    }
    w.sections.push(Section {
        title,
        level,
        line,
        parent,
        task,
        declared,
    });
    // A heading task's id may need its section.
    if let Some(idx) = task {
        w.ids.add(&mut w.tasks, &w.sections, idx, task_strength);
    }
    section
}

/// About how many task items `text` holds, to size the task list once: lines that start
/// (after indentation and quote marks) with a list marker and then `[`. Only a hint.
fn estimate_tasks(src: &Source) -> usize {
    let mut tasks = 0;
    for l in 1..=src.line_count() {
        let line = &src.text[src.line_range(l)];
        let t = line.trim_start_matches([' ', '\t', '>']);
        let Some(&first) = t.as_bytes().first() else {
            continue;
        };
        let t = match first {
            b'-' | b'*' | b'+' => &t[1..],
            b'0'..=b'9' => t
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .strip_prefix(['.', ')'])
                .unwrap_or(""),
            _ => continue,
        };
        if t.starts_with([' ', '\t']) && t.trim_start_matches([' ', '\t']).starts_with('[') {
            tasks += 1;
        }
    }
    tasks
}

/// Byte ranges hidden by Obsidian `%% ... %%` block comments: a line that starts with
/// `%%` opens one (unless it also closes on that line), a line that ends with `%%` closes.
fn percent_comments(text: &str) -> Vec<Range<usize>> {
    if !text.contains("%%") {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        match open {
            None if t.starts_with("%%") && !t[2..].contains("%%") => open = Some(pos),
            Some(o) if t.ends_with("%%") => {
                out.push(o..pos + line.len());
                open = None;
            }
            _ => {}
        }
        pos += line.len();
    }
    if let Some(o) = open {
        out.push(o..text.len());
    }
    out
}

/// Whether `pos` is in one of `hidden`, which are in order and do not overlap.
fn in_hidden(hidden: &[Range<usize>], pos: usize) -> bool {
    let k = hidden.partition_point(|r| r.start <= pos);
    k > 0 && hidden[k - 1].contains(&pos)
}
