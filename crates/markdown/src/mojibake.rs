//! Mojibake repair.
//!
//! Some plans were saved after their UTF-8 bytes had been decoded with a single-byte code page
//! (Windows-1252, Windows-1254 or Mac Roman), so `✅` (E2 9C 85) reads `âœ…` and `🚀` reads
//! `üöÄ`. Tools that met a byte the code page leaves undefined either dropped it or wrote the
//! C1 control character of the same value; both are understood here, and a dropped byte is
//! guessed back from the symbols plans commonly use.
//!
//! [`detect`] finds such damage and says how to repair it, without touching legit non-ASCII
//! text: a document counts as damaged only when it holds at least one 3- or 4-byte sequence
//! that decodes to a symbol or emoji; only then are 2-byte sequences (`Ã©` for `é`) repaired
//! too. [`mangle`] does the damage on purpose, to write new text in a document's own
//! convention.

use std::collections::HashMap;
use std::ops::Range;

/// A single-byte code page that UTF-8 text was wrongly decoded with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codepage {
    Windows1252,
    Windows1254,
    MacRoman,
}

impl Codepage {
    /// The usual name of the code page.
    pub fn name(self) -> &'static str {
        match self {
            Codepage::Windows1252 => "Windows-1252",
            Codepage::Windows1254 => "Windows-1254",
            Codepage::MacRoman => "Mac Roman",
        }
    }

    /// Every code page, in the order ties are broken.
    const ALL: [Codepage; 3] = [
        Codepage::Windows1252,
        Codepage::Windows1254,
        Codepage::MacRoman,
    ];

    /// Bytes 0x80..=0xFF as code points, 0 where the code page defines nothing.
    fn table(self) -> &'static [[u16; 8]; 16] {
        match self {
            Codepage::Windows1252 => &WINDOWS_1252,
            Codepage::Windows1254 => &WINDOWS_1254,
            Codepage::MacRoman => &MAC_ROMAN,
        }
    }

    /// The character `byte` stands for, `None` when the code page leaves it undefined.
    fn decode_byte(self, byte: u8) -> Option<char> {
        if byte < 0x80 {
            return Some(char::from(byte));
        }
        let i = usize::from(byte - 0x80);
        match self.table()[i / 8][i % 8] {
            0 => None,
            u => char::from_u32(u32::from(u)),
        }
    }

    /// Bytes the code page leaves undefined: the ones damaged documents may have dropped.
    fn undefined_bytes(self) -> &'static [u8] {
        match self {
            Codepage::Windows1252 => &[0x81, 0x8D, 0x8F, 0x90, 0x9D],
            Codepage::Windows1254 => &[0x81, 0x8D, 0x8E, 0x8F, 0x90, 0x9D, 0x9E],
            Codepage::MacRoman => &[],
        }
    }

    /// Lead bytes of 2-byte sequences that, standing alone, are taken for a sequence whose
    /// continuation byte was dropped. Kept to the characters that are rare on their own
    /// (`Ã`; `Ä` and `Å` in Turkish documents, for Ğ and Ş) so that legit letters stay.
    fn lone_leads(self) -> &'static [u8] {
        match self {
            Codepage::Windows1252 => &[0xC3],
            Codepage::Windows1254 => &[0xC3, 0xC4, 0xC5],
            Codepage::MacRoman => &[],
        }
    }
}

/// One damaged sequence and what it should read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Byte range in the input text that is replaced. Never contains '\n' or '\r'.
    pub range: Range<usize>,
    /// The repaired text (e.g. "✅").
    pub replacement: String,
    /// Other characters the damaged bytes could have been (non-empty only when a dropped
    /// byte made the repair a guess), best first after `replacement`.
    pub alternatives: Vec<String>,
}

/// The code page a document was damaged with and every repair, sorted and non-overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub codepage: Codepage,
    pub repairs: Vec<Repair>,
}

/// Find mojibake in `text` and say how to repair it; None when the text is clean.
///
/// Each code page is tried in one pass; the one repairing the most bytes wins (ties go to
/// Windows-1252, then Windows-1254). A code page is only considered when it repairs at
/// least one 3- or 4-byte sequence into a symbol or emoji.
pub fn detect(text: &str) -> Option<Detection> {
    if text.is_ascii() {
        return None;
    }
    // Count with every code page, then collect the repairs of the best only.
    let mut best: Option<(Codepage, usize)> = None;
    for cp in Codepage::ALL {
        let scan = scan(text, cp, false);
        if scan.strong > 0 && best.is_none_or(|(_, score)| scan.score > score) {
            best = Some((cp, scan.score));
        }
    }
    let (codepage, _) = best?;
    Some(Detection {
        codepage,
        repairs: into_repairs(scan(text, codepage, true)),
    })
}

/// What `text` looks like after its UTF-8 bytes are decoded with `cp` and re-encoded as
/// UTF-8, dropping bytes the code page does not define when `drop_undefined` (as the
/// damaged documents did). Used to write new emoji into a document in its own mangled
/// convention. mangle("✅", Windows1252, true) == "âœ…"; ASCII passes through unchanged.
///
/// Without `drop_undefined`, an undefined byte becomes the C1 control character of the same
/// value (0x8F becomes U+008F).
pub fn mangle(text: &str, cp: Codepage, drop_undefined: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut i = 0;
    while i < bytes.len() {
        let j = next_non_ascii(bytes, i);
        out.push_str(&text[i..j]);
        if j >= bytes.len() {
            break;
        }
        let len = utf8_len(bytes[j]);
        for &b in &bytes[j..j + len] {
            match cp.decode_byte(b) {
                Some(c) => out.push(c),
                None if !drop_undefined => out.push(char::from(b)),
                None => {}
            }
        }
        i = j + len;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Code page tables (bytes 0x80..=0xFF), checked against the Unicode consortium's mappings.

/// Windows-1252: 0x81, 0x8D, 0x8F, 0x90 and 0x9D are undefined.
#[rustfmt::skip]
const WINDOWS_1252: [[u16; 8]; 16] = [
    [0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021], // 0x80
    [0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0],      // 0x88
    [0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014], // 0x90
    [0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178], // 0x98
    [0x00A0, 0x00A1, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7], // 0xA0
    [0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF], // 0xA8
    [0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7], // 0xB0
    [0x00B8, 0x00B9, 0x00BA, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x00BF], // 0xB8
    [0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x00C4, 0x00C5, 0x00C6, 0x00C7], // 0xC0
    [0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x00CC, 0x00CD, 0x00CE, 0x00CF], // 0xC8
    [0x00D0, 0x00D1, 0x00D2, 0x00D3, 0x00D4, 0x00D5, 0x00D6, 0x00D7], // 0xD0
    [0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x00DD, 0x00DE, 0x00DF], // 0xD8
    [0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x00E4, 0x00E5, 0x00E6, 0x00E7], // 0xE0
    [0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x00EC, 0x00ED, 0x00EE, 0x00EF], // 0xE8
    [0x00F0, 0x00F1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x00F6, 0x00F7], // 0xF0
    [0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x00FD, 0x00FE, 0x00FF], // 0xF8
];

/// Windows-1254 (Turkish): as Windows-1252 but 0x8E and 0x9E are undefined too and six
/// Icelandic letters give way to Ğ İ Ş ğ ı ş.
#[rustfmt::skip]
const WINDOWS_1254: [[u16; 8]; 16] = [
    [0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021], // 0x80
    [0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0, 0],           // 0x88
    [0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014], // 0x90
    [0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0, 0x0178],      // 0x98
    [0x00A0, 0x00A1, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7], // 0xA0
    [0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF], // 0xA8
    [0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7], // 0xB0
    [0x00B8, 0x00B9, 0x00BA, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x00BF], // 0xB8
    [0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x00C4, 0x00C5, 0x00C6, 0x00C7], // 0xC0
    [0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x00CC, 0x00CD, 0x00CE, 0x00CF], // 0xC8
    [0x011E, 0x00D1, 0x00D2, 0x00D3, 0x00D4, 0x00D5, 0x00D6, 0x00D7], // 0xD0
    [0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x0130, 0x015E, 0x00DF], // 0xD8
    [0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x00E4, 0x00E5, 0x00E6, 0x00E7], // 0xE0
    [0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x00EC, 0x00ED, 0x00EE, 0x00EF], // 0xE8
    [0x011F, 0x00F1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x00F6, 0x00F7], // 0xF0
    [0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x0131, 0x015F, 0x00FF], // 0xF8
];

/// Mac Roman (Apple's current mapping: 0xDB is €, 0xF0 is the Apple logo U+F8FF).
#[rustfmt::skip]
const MAC_ROMAN: [[u16; 8]; 16] = [
    [0x00C4, 0x00C5, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00DC, 0x00E1], // 0x80
    [0x00E0, 0x00E2, 0x00E4, 0x00E3, 0x00E5, 0x00E7, 0x00E9, 0x00E8], // 0x88
    [0x00EA, 0x00EB, 0x00ED, 0x00EC, 0x00EE, 0x00EF, 0x00F1, 0x00F3], // 0x90
    [0x00F2, 0x00F4, 0x00F6, 0x00F5, 0x00FA, 0x00F9, 0x00FB, 0x00FC], // 0x98
    [0x2020, 0x00B0, 0x00A2, 0x00A3, 0x00A7, 0x2022, 0x00B6, 0x00DF], // 0xA0
    [0x00AE, 0x00A9, 0x2122, 0x00B4, 0x00A8, 0x2260, 0x00C6, 0x00D8], // 0xA8
    [0x221E, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x00B5, 0x2202, 0x2211], // 0xB0
    [0x220F, 0x03C0, 0x222B, 0x00AA, 0x00BA, 0x03A9, 0x00E6, 0x00F8], // 0xB8
    [0x00BF, 0x00A1, 0x00AC, 0x221A, 0x0192, 0x2248, 0x2206, 0x00AB], // 0xC0
    [0x00BB, 0x2026, 0x00A0, 0x00C0, 0x00C3, 0x00D5, 0x0152, 0x0153], // 0xC8
    [0x2013, 0x2014, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x25CA], // 0xD0
    [0x00FF, 0x0178, 0x2044, 0x20AC, 0x2039, 0x203A, 0xFB01, 0xFB02], // 0xD8
    [0x2021, 0x00B7, 0x201A, 0x201E, 0x2030, 0x00C2, 0x00CA, 0x00C1], // 0xE0
    [0x00CB, 0x00C8, 0x00CD, 0x00CE, 0x00CF, 0x00CC, 0x00D3, 0x00D4], // 0xE8
    [0xF8FF, 0x00D2, 0x00DA, 0x00DB, 0x00D9, 0x0131, 0x02C6, 0x02DC], // 0xF0
    [0x00AF, 0x02D8, 0x02D9, 0x02DA, 0x00B8, 0x02DD, 0x02DB, 0x02C7], // 0xF8
];

/// Symbols plans use, best first: a guessed repair picks the earliest that fits. First the
/// task-state symbols, then the symbols and emoji common in plans (above all those holding a
/// byte that Windows-1252 or Windows-1254 leaves undefined, as only they need guessing),
/// each ahead of the rarer characters the same damaged bytes could also be.
const PREFERRED: &[char] = &[
    '✅', '❌', '☐', '☑', '⏸', '⏳', '⚡', '⚠', '★', '☆', '✓', '✔', '✗', '✘', '➡', '→', '←', '↑',
    '↓', '⬜', '⬛', '\u{FE0F}', '📝', '📞', '📁', '📍', '📎', '📌', '📐', '📏', '❎', '❗', '❓',
    '❔', '❕', '❤', '⭐', '✏', '✍', '☎', '☝', '☞', '⏫', '⏬', '⏩', '⏪', '⏭', '⏮', '⏯', '⏹',
    '⏺', '⏰', '⏱', '⏲', '⌛', '⌚', '➕', '➖', '➗', '➜', '➤', '⬆', '⬇', '⬅', '⁉', '‼', '🎯',
    '📊', '📋', '🔄', '🚀', '🚨', '🔴', '🟠', '🟡', '🟢', '🔵', '🟣', '🟤', '⚫', '⚪', '🔍', '🔎',
    '🔁', '🔐', '🔒', '🔓', '🔑', '🔝', '🏆', '🏁', '🏗', '🏠', '🏢', '🏭', '🏷', '🏅', '🏃', '🐛',
    '🐞', '🐍', '🐳', '👍', '👎', '👏', '👀', '👉', '👥', '🌐', '🌍', '🌎', '🌏', '🎁', '🎉', '🎓',
    '🎨', '🙏', '🤝', '🧐', '😁', '😍', '🛑', '🛠', '🛡', '🛫', '🔧', '🔨', '🔗', '🔥', '💡', '💰',
    '📈', '📉', '📅', '📆', '📄', '📂', '📦', '📚', '🧪', '🧰', '🚧', '⛔', '⭕', '✨', '▶', '◀',
    '■', '□', '▪', '▫', '●', '○', '◆', '◇', '─', '│', '├', '└', '┌', '┐', '┘', '┤', '┬', '┴', '┼',
    '—', '–', '…', '’', '‘', '“', '”', '•', '™', '€', 'Ğ', 'Ş',
];

/// Unassigned code points (general category Cn in the Unicode Character Database) as
/// inclusive start/end pairs, within the blocks a guess may land in: U+2000..U+2E7F,
/// U+3000..U+303F, U+FE00..U+FE0F and U+1F000..U+1FBFF (3- and 4-byte guesses stay there).
const UNASSIGNED: [u32; 120] = [
    0x2065, 0x2065, 0x2072, 0x2073, 0x20C5, 0x20CF, 0x20F1, 0x20FF, 0x218C, 0x218F, 0x242A, 0x243F,
    0x244B, 0x245F, 0x2B74, 0x2B75, 0x2CF4, 0x2CF8, 0x2D26, 0x2D26, 0x2D28, 0x2D2C, 0x2D2E, 0x2D2F,
    0x2D68, 0x2D6E, 0x2D71, 0x2D7E, 0x2D97, 0x2D9F, 0x2DA7, 0x2DA7, 0x2DAF, 0x2DAF, 0x2DB7, 0x2DB7,
    0x2DBF, 0x2DBF, 0x2DC7, 0x2DC7, 0x2DCF, 0x2DCF, 0x2DD7, 0x2DD7, 0x2DDF, 0x2DDF, 0x2E5E, 0x2E5F,
    0x2E64, 0x2E7F, 0x1F02C, 0x1F02F, 0x1F094, 0x1F09F, 0x1F0AF, 0x1F0B0, 0x1F0C0, 0x1F0C0,
    0x1F0D0, 0x1F0D0, 0x1F0F6, 0x1F0FF, 0x1F1AF, 0x1F1E5, 0x1F203, 0x1F20F, 0x1F23C, 0x1F23F,
    0x1F249, 0x1F24F, 0x1F252, 0x1F25F, 0x1F266, 0x1F2FF, 0x1F6DA, 0x1F6DB, 0x1F6ED, 0x1F6EF,
    0x1F6FD, 0x1F6FF, 0x1F7DC, 0x1F7DF, 0x1F7EC, 0x1F7EF, 0x1F80C, 0x1F80F, 0x1F848, 0x1F84F,
    0x1F85A, 0x1F85F, 0x1F888, 0x1F88F, 0x1F8AE, 0x1F8AF, 0x1F8BC, 0x1F8BF, 0x1F8C2, 0x1F8CF,
    0x1F8D9, 0x1F8FF, 0x1FA58, 0x1FA5F, 0x1FA6E, 0x1FA6F, 0x1FA7D, 0x1FA7F, 0x1FAC7, 0x1FAC7,
    0x1FAC9, 0x1FACB, 0x1FADE, 0x1FADE, 0x1FAEC, 0x1FAEE, 0x1FAFB, 0x1FAFF, 0x1FB93, 0x1FB93,
    0x1FBFB, 0x1FBFF,
];

// ---------------------------------------------------------------------------------------
// Scanning.

/// Characters back to the bytes a code page decodes them from.
struct ReverseMap {
    /// Indexed by code point below [`ReverseMap::DIRECT`]; 0 when no byte decodes to it.
    direct: Vec<u8>,
    /// The few code points from [`ReverseMap::DIRECT`] on (Mac Roman's U+F8FF, ﬁ, ﬂ).
    rest: Vec<(u32, u8)>,
}

impl ReverseMap {
    /// Past every code point of the tables but three (the highest is Mac Roman's ◊ U+25CA).
    const DIRECT: u32 = 0x2600;

    fn new(cp: Codepage) -> Self {
        let mut map = ReverseMap {
            direct: vec![0; Self::DIRECT as usize],
            rest: Vec::new(),
        };
        for b in 0x80..=0xFF_u8 {
            if let Some(c) = cp.decode_byte(b) {
                map.insert(u32::from(c), b);
            }
        }
        match cp {
            // Older mappings: 0xDB as the currency sign, 0xBD as the Ohm sign.
            Codepage::MacRoman => {
                map.insert(0xA4, 0xDB);
                map.insert(0x2126, 0xBD);
            }
            // Tools that keep undefined bytes write them as C1 controls (and some decode
            // the whole 0x80..0x9F range that way).
            Codepage::Windows1252 | Codepage::Windows1254 => {
                for b in 0x80..0xA0_u8 {
                    map.insert(u32::from(b), b);
                }
            }
        }
        map
    }

    fn insert(&mut self, u: u32, b: u8) {
        match self.direct.get_mut(u as usize) {
            Some(slot) => *slot = b,
            None => self.rest.push((u, b)),
        }
    }

    fn byte(&self, c: char) -> Option<u8> {
        let u = u32::from(c);
        match self.direct.get(u as usize) {
            Some(&b) => Some(b).filter(|&b| b != 0),
            None => self.rest.iter().find(|&&(k, _)| k == u).map(|&(_, b)| b),
        }
    }
}

/// A repair found by a scan, before it is turned into a [`Repair`].
struct Candidate {
    start: usize,
    end: usize,
    ch: char,
    /// Index into [`Scan::alternatives`] when the repair is a guess with alternatives.
    alternatives: Option<u32>,
}

/// What one code page makes of a document.
#[derive(Default)]
struct Scan {
    cands: Vec<Candidate>,
    /// Repairs of 3- or 4-byte sequences into symbols: the evidence of damage.
    strong: usize,
    /// Bytes of text repaired.
    score: usize,
    /// Alternatives of the guesses, each list once.
    alternatives: Vec<Vec<char>>,
    /// Whether to keep the repairs in `cands` or only count them.
    collect: bool,
    /// Guesses already made, by damaged bytes (see [`guess_key`]): the same few damaged
    /// sequences come back all through a document.
    guesses: HashMap<u32, Option<Found>>,
}

/// A decoded sequence: the character, its alternatives, and whether it is evidence.
#[derive(Clone, Copy)]
struct Found {
    ch: char,
    alternatives: Option<u32>,
    strong: bool,
}

/// `à` is C3 A0, and 0xA0 is the no-break space in both Windows code pages, which tools
/// often turned into a plain space: a lone `Ã` before a space is taken for `à`. The space
/// is left in place (a doubled space is harmless, two glued words are not).
const NBSP_AS_SPACE: char = 'à';

/// One pass over `text` with `cp`; the repairs are kept only when `collect`.
fn scan(text: &str, cp: Codepage, collect: bool) -> Scan {
    let map = ReverseMap::new(cp);
    let bytes = text.as_bytes();
    let mut result = Scan {
        collect,
        ..Scan::default()
    };
    // The current run: code page bytes and the text offset of the character of each.
    let mut run: Vec<u8> = Vec::new();
    let mut offsets: Vec<usize> = Vec::new();
    let mut pos = 0;
    loop {
        pos = next_non_ascii(bytes, pos);
        if pos >= bytes.len() {
            break;
        }
        run.clear();
        offsets.clear();
        let mut p = pos;
        while p < bytes.len() && bytes[p] >= 0x80 {
            let Some(c) = text[p..].chars().next() else {
                break;
            };
            let Some(b) = map.byte(c) else { break };
            run.push(b);
            offsets.push(p);
            p += c.len_utf8();
        }
        if run.is_empty() {
            // A character this code page cannot produce (CJK, Cyrillic, a real emoji...).
            pos += utf8_len(bytes[pos]);
            continue;
        }
        offsets.push(p);
        let space_follows = bytes.get(p) == Some(&b' ');
        process_run(&run, &offsets, cp, space_follows, &mut result);
        pos = p;
    }
    result
}

/// Decode one run of code page bytes as UTF-8, greedily, recording every repair.
fn process_run(run: &[u8], offsets: &[usize], cp: Codepage, space_follows: bool, out: &mut Scan) {
    let n = run.len();
    let mut i = 0;
    while i < n {
        let need = match run[i] {
            0xC2..=0xDF => 1,
            0xE0..=0xEF => 2,
            0xF0..=0xF4 => 3,
            _ => {
                i += 1;
                continue;
            }
        };
        let mut k = 0;
        while k < need && i + 1 + k < n && is_continuation(run[i + 1 + k]) {
            k += 1;
        }
        let len = 1 + k;
        let found = if k == need {
            exact(&run[i..i + len])
        } else if k + 1 == need {
            let present = &run[i..i + len];
            let space_follows = space_follows && i + len == n;
            let key = guess_key(present, space_follows);
            match out.guesses.get(&key) {
                Some(&found) => found,
                None => {
                    let found = guess(present, cp, space_follows, &mut out.alternatives);
                    out.guesses.insert(key, found);
                    found
                }
            }
        } else {
            None
        };
        match found {
            Some(found) => {
                let (start, end) = (offsets[i], offsets[i + len]);
                out.strong += usize::from(found.strong);
                out.score += end - start;
                if out.collect {
                    out.cands.push(Candidate {
                        start,
                        end,
                        ch: found.ch,
                        alternatives: found.alternatives,
                    });
                }
                i += len;
            }
            None => i += 1,
        }
    }
}

/// A complete sequence.
fn exact(seq: &[u8]) -> Option<Found> {
    let c = decode_utf8(seq)?;
    if seq.len() == 2 {
        return two_byte_plausible(c).then_some(Found {
            ch: c,
            alternatives: None,
            strong: false,
        });
    }
    if c.is_control() || is_private_or_noncharacter(c) {
        return None;
    }
    Some(Found {
        ch: c,
        alternatives: None,
        strong: class(c) <= 2,
    })
}

/// The bytes of a sequence one byte short (at most 3) and whether a space follows it.
fn guess_key(present: &[u8], space_follows: bool) -> u32 {
    let bytes = present.iter().fold(0, |key, &b| key << 8 | u32::from(b));
    bytes | (present.len() as u32) << 24 | u32::from(space_follows) << 26
}

/// A sequence one continuation byte short: try each undefined byte at each position.
/// `space_follows`: the sequence ends its run and a space comes next. Alternatives are
/// stored in `lists`.
fn guess(
    present: &[u8],
    cp: Codepage,
    space_follows: bool,
    lists: &mut Vec<Vec<char>>,
) -> Option<Found> {
    let total = present.len() + 1;
    if total == 2 && !cp.lone_leads().contains(&present[0]) {
        return None;
    }
    let nbsp = total == 2 && present[0] == 0xC3 && space_follows;
    let mut cands: Vec<char> = Vec::new();
    if nbsp {
        cands.push(NBSP_AS_SPACE);
    }
    for pos in 1..total {
        for &missing in cp.undefined_bytes() {
            let mut buf = [0u8; 4];
            buf[..pos].copy_from_slice(&present[..pos]);
            buf[pos] = missing;
            buf[pos + 1..total].copy_from_slice(&present[pos..]);
            let Some(c) = decode_utf8(&buf[..total]) else {
                continue;
            };
            let fits = if total == 2 {
                two_byte_plausible(c)
            } else {
                class(c) <= 2
            };
            if fits
                && !c.is_control()
                && !is_private_or_noncharacter(c)
                && is_assigned(c)
                && !cands.contains(&c)
            {
                cands.push(c);
            }
        }
    }
    if !nbsp {
        cands.sort_by_key(|&c| rank(c));
    }
    let ch = *cands.first()?;
    let alternatives = (cands.len() > 1).then(|| {
        lists.push(cands[1..].to_vec());
        u32::try_from(lists.len() - 1).unwrap_or(u32::MAX)
    });
    Some(Found {
        ch,
        alternatives,
        strong: total >= 3,
    })
}

/// Sort key of a candidate: preferred symbols in order, then emoji, then other symbols,
/// then anything else; code point order within a group.
fn rank(c: char) -> (u8, usize, u32) {
    match PREFERRED.iter().position(|&p| p == c) {
        Some(i) => (0, i, u32::from(c)),
        None => (class(c), 0, u32::from(c)),
    }
}

/// 1 emoji, 2 other symbol or punctuation, 3 anything else. Only symbols (1 and 2) are
/// evidence of damage, and only they are guessed when a byte was dropped from a 3- or
/// 4-byte sequence.
fn class(c: char) -> u8 {
    match u32::from(c) {
        0x1F300..=0x1F64F
        | 0x1F680..=0x1F6FF
        | 0x1F7E0..=0x1F7EB
        | 0x1F900..=0x1F9FF
        | 0x1FA70..=0x1FAFF => 1,
        0x2000..=0x2BFF
        | 0x2E00..=0x2E7F
        | 0x3000..=0x303F
        | 0xFE00..=0xFE0F
        | 0x1F000..=0x1FBFF => 2,
        _ => 3,
    }
}

/// Whether a 2-byte sequence decodes to something text plausibly held: Latin, modifier
/// letters and combining marks, Greek, Cyrillic, Armenian, Hebrew, Arabic. NKo, Syriac and
/// IPA are left out: legit pairs such as `ß“` or `É»` decode to them.
fn two_byte_plausible(c: char) -> bool {
    matches!(u32::from(c), 0xA0..=0x24F | 0x2B0..=0x52F | 0x531..=0x6FF)
}

fn is_private_or_noncharacter(c: char) -> bool {
    let u = u32::from(c);
    matches!(u, 0xE000..=0xF8FF | 0xF0000.. | 0xFDD0..=0xFDEF) || u & 0xFFFE == 0xFFFE
}

fn is_assigned(c: char) -> bool {
    let u = u32::from(c);
    !UNASSIGNED
        .chunks_exact(2)
        .any(|r| (r[0]..=r[1]).contains(&u))
}

fn decode_utf8(seq: &[u8]) -> Option<char> {
    std::str::from_utf8(seq).ok()?.chars().next()
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// Length of the UTF-8 sequence led by `b` (1 for anything that is not a lead byte).
fn utf8_len(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Position of the first byte >= 0x80 at or after `i`, or `bytes.len()`.
fn next_non_ascii(bytes: &[u8], mut i: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let high = u64::from_le_bytes(word) & HIGH;
        if high != 0 {
            return i + high.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i] < 0x80 {
        i += 1;
    }
    i
}

/// Turn candidates into repairs, joining touching exact repairs (`â”œâ”€â”€` becomes one
/// repair to `├──`). Guesses stay on their own so that their alternatives stay meaningful.
fn into_repairs(scan: Scan) -> Vec<Repair> {
    let lists: Vec<Vec<String>> = (scan.alternatives.iter())
        .map(|list| list.iter().map(char::to_string).collect())
        .collect();
    let mut out: Vec<Repair> = Vec::with_capacity(scan.cands.len());
    for cand in scan.cands {
        if cand.alternatives.is_none()
            && let Some(last) = out.last_mut()
            && last.alternatives.is_empty()
            && last.range.end == cand.start
        {
            last.range.end = cand.end;
            last.replacement.push(cand.ch);
            continue;
        }
        out.push(Repair {
            range: cand.start..cand.end,
            replacement: cand.ch.to_string(),
            alternatives: cand
                .alternatives
                .and_then(|i| lists.get(i as usize).cloned())
                .unwrap_or_default(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_000: &str = include_str!("../../../tests/fixtures/seeds/000_5a8b8b0b125d8697.txt");
    const SEED_001: &str = include_str!("../../../tests/fixtures/seeds/001_736f0abe7c776d48.txt");
    const SEED_002: &str = include_str!("../../../tests/fixtures/seeds/002_615674f418e0ad97.txt");
    const SEED_003: &str = include_str!("../../../tests/fixtures/seeds/003_ee6f4187d9d9ae4f.txt");
    const SEED_004: &str = include_str!("../../../tests/fixtures/seeds/004_19de9cb1061cedc3.txt");

    /// `text` with every repair of `detection` applied.
    fn apply(text: &str, detection: &Detection) -> String {
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for repair in &detection.repairs {
            out.push_str(&text[at..repair.range.start]);
            out.push_str(&repair.replacement);
            at = repair.range.end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Repairs are sorted, non-overlapping, non-empty, on character boundaries and never
    /// span a line break.
    fn assert_well_formed(text: &str, detection: &Detection) {
        let mut previous_end = 0;
        for repair in &detection.repairs {
            let range = repair.range.clone();
            assert!(
                range.start >= previous_end,
                "{range:?} overlaps or is out of order"
            );
            assert!(range.start < range.end, "{range:?} is empty");
            assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
            assert!(
                !text[range.clone()].contains(['\n', '\r']),
                "{range:?} spans a line break"
            );
            assert!(!repair.replacement.is_empty());
            assert!(!repair.alternatives.contains(&repair.replacement));
            previous_end = range.end;
        }
    }

    /// `expected` None: nothing is detected. Some(text): the repairs turn `input` into text.
    fn check(input: &str, expected: Option<&str>) {
        let detection = detect(input);
        if let Some(detection) = &detection {
            assert_well_formed(input, detection);
        }
        let repaired = detection.as_ref().map(|d| apply(input, d));
        assert_eq!(repaired.as_deref(), expected, "input: {input:?}");
    }

    /// Like [`check`], and the detected code page is `codepage`.
    fn check_codepage(input: &str, codepage: Codepage, expected: &str) {
        check(input, Some(expected));
        assert_eq!(
            detect(input).map(|d| d.codepage),
            Some(codepage),
            "input: {input:?}"
        );
    }

    /// The only repair of `input`: damaged text, replacement, alternatives.
    fn single_repair(input: &str) -> (&str, String, Vec<String>) {
        let detection = detect(input).expect("mojibake detected");
        assert_eq!(detection.repairs.len(), 1, "{:?}", detection.repairs);
        let repair = detection.repairs.into_iter().next().expect("one repair");
        (
            &input[repair.range],
            repair.replacement,
            repair.alternatives,
        )
    }

    fn strings(chars: &str) -> Vec<String> {
        chars.chars().map(String::from).collect()
    }

    #[test]
    fn codepages_have_their_usual_names() {
        assert_eq!(Codepage::Windows1252.name(), "Windows-1252");
        assert_eq!(Codepage::Windows1254.name(), "Windows-1254");
        assert_eq!(Codepage::MacRoman.name(), "Mac Roman");
    }

    #[test]
    fn windows_1252_emoji_from_real_plans_are_repaired() {
        for (input, expected) in [
            (
                "**Current Status**: Step 6 COMPLETED âœ… | Week 1 Security: ALL COMPLETED âœ…",
                "**Current Status**: Step 6 COMPLETED ✅ | Week 1 Security: ALL COMPLETED ✅",
            ),
            (
                "- [ ] **Step 7: Test Coverage Reporting** ðŸ”„ **IN PROGRESS**",
                "- [ ] **Step 7: Test Coverage Reporting** 🔄 **IN PROGRESS**",
            ),
            (
                "- [ ] **Step 8: Fix Broken Integration Tests** ðŸ“‹ **NEXT**",
                "- [ ] **Step 8: Fix Broken Integration Tests** 📋 **NEXT**",
            ),
            ("## ðŸš¨ CRITICAL TRACKING", "## 🚨 CRITICAL TRACKING"),
            ("- â¬œ Not Started", "- ⬜ Not Started"),
            (
                "- [ ] **Enable Redis Caching** âš¡ Quick Win",
                "- [ ] **Enable Redis Caching** ⚡ Quick Win",
            ),
            ("## ðŸ“ž Team Assignments", "## 📞 Team Assignments"),
        ] {
            check_codepage(input, Codepage::Windows1252, expected);
        }
    }

    #[test]
    fn bytes_dropped_by_windows_1252_are_guessed_back() {
        // ⏸️ is E2 8F B8 EF B8 8F; both 0x8F bytes were dropped.
        let input = "- \u{e2}\u{b8}\u{ef}\u{b8} Blocked";
        assert_eq!(input, "- â¸ï¸ Blocked");
        check_codepage(input, Codepage::Windows1252, "- ⏸\u{FE0F} Blocked");
        let detection = detect(input).expect("detected");
        let found: Vec<_> = detection
            .repairs
            .iter()
            .map(|r| {
                (
                    &input[r.range.clone()],
                    r.replacement.as_str(),
                    r.alternatives.clone(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "â¸",
                    "⏸",
                    strings("\u{2078}\u{2378}\u{2778}\u{2E01}\u{2E0D}\u{2E0F}\u{2E10}\u{2E1D}")
                ),
                ("ï¸", "\u{FE0F}", strings("\u{FE01}\u{FE0D}")),
            ]
        );
    }

    #[test]
    fn undefined_bytes_kept_as_c1_controls_are_decoded_exactly() {
        let input = "- \u{e2}\u{8f}\u{b8}\u{ef}\u{b8}\u{8f} Blocked";
        check_codepage(input, Codepage::Windows1252, "- ⏸\u{FE0F} Blocked");
        assert_eq!(
            single_repair(input),
            (&input[2..14], "⏸\u{FE0F}".to_string(), vec![])
        );
    }

    #[test]
    fn windows_1254_symbols_from_a_real_plan_are_repaired() {
        for (input, expected) in [
            ("## ğŸ“Š Project Overview", "## 📊 Project Overview"),
            ("## ğŸ¯ PHASE 1: FOUNDATION", "## 🎯 PHASE 1: FOUNDATION"),
            (
                "### ğŸŸ\u{a0} HIGH PRIORITY TASKS",
                "### 🟠 HIGH PRIORITY TASKS",
            ),
            (
                "#### â˜ CORE-001: FastAPI REST API Layer\n**Status:** âŒ Not Started  \n## ğŸ”´ X",
                "#### ☐ CORE-001: FastAPI REST API Layer\n**Status:** ❌ Not Started  \n## 🔴 X",
            ),
            (
                "## ğŸ“‹ DEPENDENCY MATRIX\nâ”œâ”€â”€ main.py\nâ”‚   â””â”€â”€ auth.py\nCORE-001 â† Foundation",
                "## 📋 DEPENDENCY MATRIX\n├── main.py\n│   └── auth.py\nCORE-001 ← Foundation",
            ),
        ] {
            check_codepage(input, Codepage::Windows1254, expected);
        }
        // Without a Turkish letter the two Windows code pages read the same: the tie goes
        // to Windows-1252 and the repair is the same.
        for (input, expected) in [
            ("#### â˜ CORE-001", "#### ☐ CORE-001"),
            ("**Status:** âŒ Not Started", "**Status:** ❌ Not Started"),
            ("â”œâ”€â”€ main.py", "├── main.py"),
        ] {
            check_codepage(input, Codepage::Windows1252, expected);
        }
        // ☐ is E2 98 90 and 0x90 was dropped: a guess, ☐ first. Windows-1252 could have
        // dropped 81 8D 8F 90 9D; Windows-1254 also 8E and 9E, which adds ☎ and ☞.
        let (damaged, replacement, alternatives) = single_repair("#### â˜ CORE-001");
        assert_eq!((damaged, replacement.as_str()), ("â˜", "☐"));
        assert_eq!(alternatives, strings("☝⁘⍘⏘␘☁☍☏❘"));
        let input = "#### â˜ CORE-001\nğŸ“Š";
        let detection = detect(input).expect("detected");
        assert_eq!(detection.codepage, Codepage::Windows1254);
        assert_eq!(detection.repairs[0].alternatives[..3], strings("☎☝☞"));
        // 🎯 is F0 9F 8E AF and 0x8E was dropped.
        let (damaged, replacement, alternatives) = single_repair("## ğŸ¯ PHASE 1");
        assert_eq!((damaged, replacement.as_str()), ("ğŸ¯", "🎯"));
        assert_eq!(alternatives[..4], strings("🍯🏯🐯🁯"));
    }

    #[test]
    fn a_dropped_byte_with_several_possible_symbols_lists_them_all() {
        // F0 9F 93 and one dropped byte (Windows-1254): 📞 in the original, but 📁 📍 📎 📏
        // 📐 📝 are just as possible, and a few rarer characters too.
        let input = "## ğŸ“ SUPPORT & ESCALATION";
        check_codepage(input, Codepage::Windows1254, "## 📝 SUPPORT & ESCALATION");
        let (damaged, replacement, alternatives) = single_repair(input);
        assert_eq!((damaged, replacement.as_str()), ("ğŸ“", "📝"));
        assert_eq!(
            alternatives,
            strings("📞📁📍📎📐📏🎓🍓🏓🐓\u{1F053}\u{1F753}\u{1F793}")
        );
    }

    #[test]
    fn guesses_prefer_the_symbols_plans_use() {
        for (input, expected) in [
            // 🔍 F0 9F 94 8D, 🏆 F0 9F 8F 86, ⏳ E2 8F B3: the 0x8D and 0x8F dropped.
            (
                "## # # ðŸ” TEST IMPLEMENTATION DETAILS",
                "## # # 🔍 TEST IMPLEMENTATION DETAILS",
            ),
            (
                "## # # ðŸ† PHASE 6D ACHIEVEMENTS SO FAR",
                "## # # 🏆 PHASE 6D ACHIEVEMENTS SO FAR",
            ),
            (
                "## # # â³ Remaining Tasks (3/6)",
                "## # # ⏳ Remaining Tasks (3/6)",
            ),
            // ” is E2 80 9D.
            ("He said â€œyesâ€ âœ…", "He said “yes” ✅"),
        ] {
            check_codepage(input, Codepage::Windows1252, expected);
        }
    }

    #[test]
    fn mac_roman_emoji_are_repaired() {
        for (input, expected) in [
            (
                "## \u{F8FF}üöÄ MVP Launch Phases (8 Weeks)",
                "## 🚀 MVP Launch Phases (8 Weeks)",
            ),
            (
                "### \u{F8FF}üèóÔ∏è Infrastructure & DevOps",
                "### 🏗\u{FE0F} Infrastructure & DevOps",
            ),
            ("## ‚úÖ Definition of Done", "## ✅ Definition of Done"),
        ] {
            check_codepage(input, Codepage::MacRoman, expected);
        }
    }

    #[test]
    fn corpus_lines_with_em_dashes_and_broken_headings_are_repaired() {
        for (input, expected) in [
            (
                "SYSTEM INSTRUCTIONS â€” ARCHIVE.md (agent-enforced)",
                "SYSTEM INSTRUCTIONS — ARCHIVE.md (agent-enforced)",
            ),
            (
                "## âœ… Completed Tasks (Chronological)",
                "## ✅ Completed Tasks (Chronological)",
            ),
            (
                "# ORFEAS AI 2Dâ†’3D Studio - PHASE 6D PROGRESS REPORT",
                "# ORFEAS AI 2D→3D Studio - PHASE 6D PROGRESS REPORT",
            ),
            ("- Validate pass rate â‰¥80%", "- Validate pass rate ≥80%"),
            ("â”€â”€â”€â”€â”€â”€", "──────"),
        ] {
            check_codepage(input, Codepage::Windows1252, expected);
        }
    }

    #[test]
    fn clean_text_in_any_language_is_left_alone() {
        let paragraphs = [
            "Réunion de l'équipe à 14 h : « Déploiement » — ça marche, œuvre, naïve, Noël.",
            "Le rapport de l'été\u{a0}» et «\u{a0}Ébauche\u{a0}» sont prêts.",
            "Größe, Übergröße, „Anführungszeichen“, Straße, über, Äpfel.",
            "Çalışma planı: öğrenci güncelleme değişiklik İŞ ĞÜŞ ışık.",
            "¿Qué pasó? ¡Mañana! Año, niño, corazón; SÃO PAULO, ação.",
            "タスクを完了しました。次のステップ：テスト…",
            "작업 완료 — 다음 단계",
            "任务已完成，下一步：测试",
            "Задача выполнена — следующий шаг «тест»",
            "تم إنجاز المهمة",
            "- [x] ✅ Done 🚀 📊 ⏸️ 🏗️ ☐ ❌ ⏳ ≥ 70% → next",
            "Prices: 5 € – 10 £ ± 2 ° ©®™ µ ¼ ½ ‰ † ‡ •",
            "„Über“ — «Élan» … ‚quote‘ ÷ ◊ ﬁ",
        ];
        for paragraph in paragraphs {
            check(paragraph, None);
        }
        check(&paragraphs.join("\n"), None);
        check(SEED_001, None);
    }

    #[test]
    fn pure_ascii_documents_return_none() {
        check("", None);
        check("# Plan\n\n- [ ] one\n- [x] two\r\n", None);
        check(&"- [ ] task with ASCII only\n".repeat(10_000), None);
    }

    #[test]
    fn two_byte_pairs_are_repaired_only_in_a_clearly_mangled_document() {
        for (input, expected) in [
            ("Ã©tÃ© Ã  Paris", None),
            ("cafÃ© naÃ¯ve, Ã©tÃ©", None),
            // à is C3 A0 and the no-break space became a space: à, the space kept.
            ("Ã©tÃ© Ã  Paris âœ…", Some("été à  Paris ✅")),
            ("VoilÃ ðŸš€", Some("Voilà 🚀")),
            // A lone Ã elsewhere is Á, Í, Ï, Ð or Ý with the second byte dropped.
            ("ÃLVARO ðŸš€", Some("ÁLVARO 🚀")),
            ("cafÃ© â€” naÃ¯ve", Some("café — naïve")),
            ("SÃƒO PAULO ðŸš€", Some("SÃO PAULO 🚀")),
            ("Ã‡alÄ±ÅŸma âœ…", Some("Çalışma ✅")),
        ] {
            check(input, expected);
        }
    }

    #[test]
    fn mangle_writes_text_in_the_damaged_convention() {
        use Codepage::*;
        for (text, codepage, drop_undefined, expected) in [
            ("✅", Windows1252, true, "âœ…"),
            ("plain ASCII\r\n", Windows1252, true, "plain ASCII\r\n"),
            ("⏸️", Windows1252, true, "â¸ï¸"),
            ("⏸️", Windows1252, false, "â\u{8f}¸ï¸\u{8f}"),
            ("📊", Windows1254, true, "ğŸ“Š"),
            ("🎯", Windows1254, true, "ğŸ¯"),
            ("🎯", Windows1252, true, "ðŸŽ¯"),
            ("🚀 é", MacRoman, false, "\u{F8FF}üöÄ √©"),
            ("é", Windows1252, false, "Ã©"),
        ] {
            assert_eq!(
                mangle(text, codepage, drop_undefined),
                expected,
                "{text} {codepage:?}"
            );
        }
    }

    #[test]
    fn mangled_symbols_are_detected_and_repaired_back() {
        let samples = [
            "✅",
            "🔄",
            "📋",
            "☑",
            "☐",
            "❌",
            "🎯",
            "⏸️",
            "🏗️",
            "🚀",
            "⭐",
            "🔍",
            "├──",
        ];
        for codepage in Codepage::ALL {
            for drop_undefined in [false, true] {
                for sample in samples {
                    let text = format!("- [x] {sample} Done — “ok”");
                    let mangled = mangle(&text, codepage, drop_undefined);
                    assert_ne!(mangled, text);
                    check(&mangled, Some(&text));
                }
            }
        }
    }

    #[test]
    fn seed_files_are_detected_with_their_code_page() {
        for (seed, expected) in [
            (SEED_000, Some(Codepage::Windows1252)),
            (SEED_001, None),
            (SEED_002, Some(Codepage::Windows1254)),
            (SEED_003, Some(Codepage::Windows1252)),
            (SEED_004, Some(Codepage::MacRoman)),
        ] {
            let detection = detect(seed);
            assert_eq!(detection.as_ref().map(|d| d.codepage), expected);
            if let Some(detection) = &detection {
                assert_well_formed(seed, detection);
            }
        }
        let repaired = |seed: &str| apply(seed, &detect(seed).expect("detected"));

        let seed_000 = repaired(SEED_000);
        assert!(seed_000.contains("Step 6: GitHub Actions CI/CD ✅ **COMPLETED**"));
        assert!(!seed_000.contains(['â', 'ð', 'Ÿ']));

        let seed_002 = repaired(SEED_002);
        for line in [
            "## 📊 Project Overview",
            "#### ☐ CORE-001: FastAPI REST API Layer",
            "**Status:** ❌ Not Started",
            "## 🎯 PHASE 1: FOUNDATION",
            "├── main.py",
            "## 📝 SUPPORT & ESCALATION",
        ] {
            assert!(seed_002.contains(line), "{line}");
        }
        assert!(!seed_002.contains(['â', 'ğ', 'Ÿ']));

        let seed_003 = repaired(SEED_003);
        for line in [
            "- ⏸\u{FE0F} Blocked",
            "## 📞 Team Assignments",
            "⚡ Quick Win",
        ] {
            assert!(seed_003.contains(line), "{line}");
        }
        assert!(!seed_003.contains(['â', 'ð', 'Ÿ']));

        let seed_004 = repaired(SEED_004);
        assert!(seed_004.contains("## 🚀 MVP Launch Phases"));
        assert!(seed_004.contains("### 🏗\u{FE0F} Infrastructure & DevOps"));
        assert!(!seed_004.contains(['\u{F8FF}', 'ü']));
    }

    #[test]
    fn repair_ranges_stay_within_one_line() {
        let text = "âœ…\r\nðŸ”„\nâ¸\r\nÃ \nğŸ“\r\n\u{F8FF}üöÄ\n";
        for input in [SEED_000, SEED_002, SEED_003, SEED_004, text] {
            let detection = detect(input).expect("detected");
            assert_well_formed(input, &detection);
        }
    }

    #[test]
    fn code_page_tables_round_trip_and_preferences_are_listed_once() {
        for (i, c) in PREFERRED.iter().enumerate() {
            assert!(!PREFERRED[..i].contains(c), "{c} listed twice");
        }
        assert!(UNASSIGNED.chunks_exact(2).all(|r| r[0] <= r[1]));
        assert!(UNASSIGNED.windows(2).all(|w| w[0] <= w[1]));
        for codepage in Codepage::ALL {
            let map = ReverseMap::new(codepage);
            for b in 0x80..=0xFF_u8 {
                if let Some(c) = codepage.decode_byte(b) {
                    assert_eq!(map.byte(c), Some(b), "{codepage:?} {b:#x}");
                } else {
                    assert!(codepage.undefined_bytes().contains(&b));
                }
            }
        }
        assert_eq!(Codepage::Windows1254.decode_byte(0xF0), Some('ğ'));
        assert_eq!(Codepage::Windows1252.decode_byte(0xF0), Some('ð'));
        assert_eq!(Codepage::MacRoman.decode_byte(0xF0), Some('\u{F8FF}'));
    }

    #[test]
    fn a_large_mangled_document_is_repaired_in_one_pass() {
        let unit = format!("{SEED_000}\n{SEED_003}\nRéunion à 14 h — 任务 ✅\n");
        let per_unit = detect(&unit).expect("detected").repairs.len();
        let copies = 5_000_000 / unit.len() + 1;
        let text = unit.repeat(copies);
        let start = std::time::Instant::now();
        let detection = detect(&text).expect("detected");
        let elapsed = start.elapsed();
        assert_eq!(detection.codepage, Codepage::Windows1252);
        assert_eq!(detection.repairs.len(), per_unit * copies);
        let megabytes = text.len() as f64 / 1e6;
        println!(
            "detect: {megabytes:.1} MB, {} repairs in {elapsed:?} ({:.0} MB/s)",
            detection.repairs.len(),
            megabytes / elapsed.as_secs_f64()
        );
        let clean = "- [ ] Réunion à 14 h — 任务 ✅ naïve\n".repeat(copies * 100);
        let start = std::time::Instant::now();
        assert!(detect(&clean).is_none());
        let elapsed = start.elapsed();
        println!(
            "detect (clean, non-ASCII): {:.1} MB in {elapsed:?}",
            clean.len() as f64 / 1e6
        );
    }
}
