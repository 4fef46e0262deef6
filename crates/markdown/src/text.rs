//! String helpers for the reader's hot paths. Each gives exactly what the standard-library
//! (or `taskman_core`) call named in its documentation gives, only cheaper on the short lines
//! of a plan: no searcher set-up, no allocation when nothing changes, ASCII done by bytes.
//! The tests at the end check each against the call it stands for.

use std::borrow::Cow;

use taskman_core::{Declared, ids};

/// `hay.find(needle)`. A scan for the needle's first byte (`memchr` when it is ASCII), then
/// a comparison: on short lines this beats setting up the standard two-way searcher. (A
/// match of a UTF-8 needle in UTF-8 text starts on a character boundary, so byte offsets
/// are the same.)
pub(crate) fn find(hay: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return hay.find(needle);
    }
    find_from(hay, needle.as_bytes(), 0)
}

/// `hay.contains(needle)`.
pub(crate) fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// `hay.rfind(needle)`.
pub(crate) fn rfind(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return hay.rfind(needle);
    };
    if h.len() < n.len() {
        return None;
    }
    let mut end = h.len() - n.len() + 1; // candidate starts are below `end`
    while let Some(i) = h[..end].iter().rposition(|&b| b == first) {
        if same(&h[i + 1..i + n.len()], rest) {
            return Some(i);
        }
        end = i;
    }
    None
}

/// First match of non-empty `n` in `hay` at or after `from`. Looks for one byte of the
/// needle (the first that is not a space: spaces are everywhere) with a plain loop, which
/// beats `memchr`'s set-up on short lines, then compares the rest. Anchors are met in order,
/// and each stands for one candidate start, so the first match found is the leftmost.
fn find_from(hay: &str, n: &[u8], from: usize) -> Option<usize> {
    let h = hay.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    let k = n.iter().position(|&b| b != b' ').unwrap_or(0);
    let anchor = n[k];
    let starts = h.len() - n.len() + 1; // candidate starts are below `starts`
    let mut i = from + k; // where the anchor of the next candidate may be
    while i < starts + k {
        let p = position_of(&h[i..starts + k], anchor)?;
        let start = i + p - k;
        if same(&h[start..start + n.len()], n) {
            return Some(start);
        }
        i += p + 1;
    }
    None
}

/// `a == b` for the few bytes of a needle, without a call to `memcmp`.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// `hay.find(b)` for an ASCII byte (the `]` after a checkbox, the `:` of a label).
pub(crate) fn find_byte(hay: &str, b: u8) -> Option<usize> {
    debug_assert!(b.is_ascii());
    position_of(hay.as_bytes(), b)
}

/// Where `x` first is in `h`, eight bytes at a time: cheaper than `memchr`'s set-up on the
/// short lines of a plan, and than a byte-by-byte loop.
fn position_of(h: &[u8], x: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(x);
    let mut chunks = h.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).unwrap_or_default()) ^ pattern;
        // Non-zero exactly when some byte of `word` is zero, that is some byte is `x`.
        if word.wrapping_sub(ONES) & !word & HIGH != 0 {
            return chunk.iter().position(|&b| b == x).map(|p| at + p);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == x)
        .map(|p| at + p)
}

/// `hay.split_once(b)` for an ASCII byte.
pub(crate) fn split_once_byte(hay: &str, b: u8) -> Option<(&str, &str)> {
    find_byte(hay, b).map(|i| (&hay[..i], &hay[i + 1..]))
}

/// `hay.split(sep)` for a non-empty `sep`.
pub(crate) fn split<'a>(hay: &'a str, sep: &'a str) -> impl Iterator<Item = &'a str> {
    debug_assert!(!sep.is_empty());
    let mut at = Some(0);
    std::iter::from_fn(move || {
        let start = at?;
        match find_from(hay, sep.as_bytes(), start) {
            Some(i) => {
                at = Some(i + sep.len());
                Some(&hay[start..i])
            }
            None => {
                at = None;
                Some(&hay[start..])
            }
        }
    })
}

/// Reusable buffers for [`remove_all_in`], so that cleaning a line does not allocate, and
/// the status words read so far.
#[derive(Default)]
pub(crate) struct Scratch {
    a: String,
    b: String,
    pub words: WordsMemo,
}

/// `Declared::from_words`, remembered for short phrases: the same few status words
/// (`COMPLETED`, `IN PROGRESS`, `NEXT`) come back all through a plan. It is a function of
/// the text alone, so a remembered answer is the answer.
#[derive(Default)]
pub(crate) struct WordsMemo {
    seen: Vec<(Box<str>, Option<Declared>)>,
}

impl WordsMemo {
    /// Phrases remembered: at most this long, and this many.
    const MAX_LEN: usize = 24;
    const MAX_SEEN: usize = 32;

    pub(crate) fn declared(&mut self, words: &str) -> Option<Declared> {
        if words.len() > Self::MAX_LEN {
            return Declared::from_words(words);
        }
        if let Some((_, d)) = self.seen.iter().find(|(w, _)| **w == *words) {
            return *d;
        }
        let d = Declared::from_words(words);
        if self.seen.len() < Self::MAX_SEEN {
            self.seen.push((words.into(), d));
        }
        d
    }
}

/// What [`remove_all`] gives, written into `scratch` (or `s` itself when no pattern
/// occurs).
pub(crate) fn remove_all_in<'a>(
    s: &'a str,
    patterns: &[&str],
    scratch: &'a mut Scratch,
) -> &'a str {
    // Most lines hold no first byte of any pattern.
    let mut table = [false; 256];
    for p in patterns {
        if let Some(&b) = p.as_bytes().first() {
            table[usize::from(b)] = true;
        }
    }
    if !s.bytes().any(|b| table[usize::from(b)]) {
        return s;
    }
    let Scratch { a, b, .. } = scratch;
    // Where the text is so far: 0 in `s`, 1 in `a`, 2 in `b`.
    let mut at = 0u8;
    for p in patterns {
        let cur: &str = match at {
            0 => s,
            1 => a,
            _ => b,
        };
        if !contains(cur, p) {
            continue;
        }
        match at {
            0 => {
                remove_into(s, p, a);
                at = 1;
            }
            1 => {
                remove_into(a, p, b);
                at = 2;
            }
            _ => {
                remove_into(b, p, a);
                at = 1;
            }
        }
    }
    match at {
        0 => s,
        1 => a,
        _ => b,
    }
}

/// `*dst = src.replace(pat, "")` for a non-empty `pat`, reusing `dst`'s buffer.
fn remove_into(src: &str, pat: &str, dst: &mut String) {
    dst.clear();
    let mut last = 0;
    while let Some(i) = find_from(src, pat.as_bytes(), last) {
        dst.push_str(&src[last..i]);
        last = i + pat.len();
    }
    dst.push_str(&src[last..]);
}

/// `s` with every occurrence of each pattern removed, one pattern after the other (as
/// chained `replace(p, "")` calls); borrowed when none occurs.
pub(crate) fn remove_all<'a>(s: &'a str, patterns: &[&str]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(s);
    for p in patterns {
        if contains(&out, p) {
            out = Cow::Owned(out.replace(p, ""));
        }
    }
    out
}

/// Call `f` with `s.to_lowercase()`, without allocating when `s` is short ASCII text (whose
/// lower case is its ASCII lower case).
pub(crate) fn with_lower<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 128];
    f(&lower_in(s, &mut buf))
}

/// `s.to_lowercase()`, written into `buf` when `s` is ASCII and fits (the lower case of
/// ASCII text is its ASCII lower case).
pub(crate) fn lower_in<'b>(s: &str, buf: &'b mut [u8]) -> Cow<'b, str> {
    if s.len() <= buf.len() && s.is_ascii() {
        let b = &mut buf[..s.len()];
        b.copy_from_slice(s.as_bytes());
        b.make_ascii_lowercase();
        Cow::Borrowed(std::str::from_utf8(b).unwrap_or_default())
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// `*out = ids::normalize(id)`; ASCII ids are done here by bytes.
pub(crate) fn normalize_into(id: &str, out: &mut String) {
    out.clear();
    let mut buf = [0u8; 128];
    if id.len() <= buf.len() && id.is_ascii() {
        // Byte by byte into a buffer, then one copy.
        let mut n = 0;
        for &b in id.trim().as_bytes() {
            if !matches!(b, b' ' | b'-' | b'_' | b'\t') {
                buf[n] = b.to_ascii_lowercase();
                n += 1;
            }
        }
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    } else if id.is_ascii() {
        let t = id.trim();
        let mut last = 0;
        for (i, b) in t.bytes().enumerate() {
            if matches!(b, b' ' | b'-' | b'_' | b'\t') {
                out.push_str(&t[last..i]);
                last = i + 1;
            }
        }
        out.push_str(&t[last..]);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&ids::normalize(id));
    }
}

/// `ids::slug(text, max)`; ASCII text is done here by bytes (for ASCII, "alphanumeric" is
/// `is_ascii_alphanumeric`, lower case is ASCII lower case, and characters are bytes).
pub(crate) fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    slug_into(text, max, &mut out);
    out
}

/// `out.push_str(&ids::slug(text, max))`, without making a string of its own for ASCII text.
pub(crate) fn slug_into(text: &str, max: usize, out: &mut String) {
    if !text.is_ascii() {
        out.push_str(&ids::slug(text, max));
        return;
    }
    let from = out.len();
    // Only the first `max + 1` bytes of the slug matter (is it longer, and where to cut):
    // make those in a buffer, byte by byte, when they fit.
    let mut buf = [0u8; 64];
    if max < buf.len() {
        let mut n = 0;
        let mut dash = false;
        for &c in text.as_bytes() {
            if !c.is_ascii_alphanumeric() {
                dash = n > 0;
                continue;
            }
            if dash {
                buf[n] = b'-';
                n += 1;
                dash = false;
                if n > max {
                    break;
                }
            }
            buf[n] = c.to_ascii_lowercase();
            n += 1;
            if n > max {
                break;
            }
        }
        if n > max {
            n = max;
            if let Some(p) = buf[..n].iter().rposition(|&c| c == b'-')
                && p > max / 2
            {
                n = p;
            }
        }
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
        return;
    }
    // The runs of letters and digits, joined by single hyphens.
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphanumeric() {
            i += 1;
        }
        if out.len() > from {
            out.push('-');
        }
        out.push_str(&text[start..i]);
    }
    out[from..].make_ascii_lowercase();
    if out.len() - from > max {
        out.truncate(from + max);
        if let Some(p) = out[from..].rfind('-')
            && p > max / 2
        {
            out.truncate(from + p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Text made of the characters that matter here, ASCII and not.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                6 => proptest::char::range(' ', '~'),
                1 => Just('\t'),
                1 => Just('\n'),
                1 => Just('é'),
                1 => Just('İ'),
                1 => Just('\u{212A}'),
                1 => Just('Σ'),
                1 => Just('✅'),
                1 => Just('入'),
                1 => Just('\u{a0}'),
                1 => any::<char>(),
            ],
            0..40,
        )
        .prop_map(|cs| cs.into_iter().collect())
    }

    fn needle() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("**".to_string()),
            Just("__".to_string()),
            Just("`".to_string()),
            Just("~~".to_string()),
            Just(" | ".to_string()),
            Just(" of ".to_string()),
            Just("<!--".to_string()),
            Just("✅".to_string()),
            "[ -~]{1,3}",
        ]
    }

    proptest! {
        #[test]
        fn searches_match_the_standard_ones(h in text(), n in needle()) {
            prop_assert_eq!(find(&h, &n), h.find(n.as_str()));
            prop_assert_eq!(rfind(&h, &n), h.rfind(n.as_str()));
            prop_assert_eq!(contains(&h, &n), h.contains(n.as_str()));
            prop_assert_eq!(split(&h, &n).collect::<Vec<_>>(), h.split(n.as_str()).collect::<Vec<_>>());
        }

        #[test]
        fn removal_matches_chained_replace(h in text(), ps in proptest::collection::vec(needle(), 0..4)) {
            let ps: Vec<&str> = ps.iter().map(String::as_str).collect();
            let mut want = h.clone();
            for p in &ps {
                want = want.replace(p, "");
            }
            prop_assert_eq!(remove_all(&h, &ps).into_owned(), want.clone());
            let mut scratch = Scratch::default();
            prop_assert_eq!(remove_all_in(&h, &ps, &mut scratch), want.as_str());
            // Buffers reused from an earlier line do not leak into the next.
            prop_assert_eq!(remove_all_in(&h, &ps, &mut scratch), want.as_str());
        }

        #[test]
        fn lower_casing_matches_the_standard_one(h in text()) {
            let mut buf = [0u8; 16];
            prop_assert_eq!(lower_in(&h, &mut buf).into_owned(), h.to_lowercase());
            prop_assert_eq!(with_lower(&h, str::to_string), h.to_lowercase());
        }

        #[test]
        fn ids_match_taskman_core(h in text(), max in 0usize..60) {
            let mut out = String::from("left over");
            normalize_into(&h, &mut out);
            prop_assert_eq!(&out, &ids::normalize(&h));
            prop_assert_eq!(slug(&h, max), ids::slug(&h, max));
            let mut out = String::from("Step 1-a/");
            slug_into(&h, max, &mut out);
            prop_assert_eq!(out, format!("Step 1-a/{}", ids::slug(&h, max)));
        }
    }

    #[test]
    fn bytes_are_found_where_they_first_are() {
        let text = "ab\u{b}\tÊ:\u{b}Ê]x:é]\n-:";
        for x in [b':', b']', b'\n', b'-', b'a', b'z', b'\t', 0x8A, 0xC3] {
            for start in 0..text.len() {
                let h = &text.as_bytes()[start..];
                assert_eq!(
                    position_of(h, x),
                    h.iter().position(|&b| b == x),
                    "{x} from {start}"
                );
            }
        }
    }

    #[test]
    fn remembered_status_words_are_what_taskman_core_says() {
        let mut memo = WordsMemo::default();
        let phrases = [
            "COMPLETED",
            "IN PROGRESS",
            "Step 7: Test Coverage",
            "API",
            "NEXT",
            "Quick Win",
            "**DONE**",
            "in-progress",
            "a phrase that is longer than twenty-four bytes",
        ];
        for round in 0..3 {
            for p in phrases {
                assert_eq!(
                    memo.declared(p),
                    Declared::from_words(p),
                    "{p} (round {round})"
                );
            }
        }
        for k in 0..100 {
            let p = format!("WORD{k}");
            assert_eq!(memo.declared(&p), Declared::from_words(&p));
        }
        assert!(memo.seen.len() <= WordsMemo::MAX_SEEN);
    }

    #[test]
    fn ascii_slugs_match_taskman_core_at_every_length() {
        let title = "Step 12/Add `structlog` to pyproject.toml -- dependencies (DEBUG dev)";
        for max in 0..title.len() + 2 {
            assert_eq!(slug(title, max), ids::slug(title, max), "max {max}");
        }
    }
}
