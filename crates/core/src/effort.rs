//! Effort, normalised to hours: 1 day = 8 h, 1 week = 5 days, 1 month = 4 weeks.
//! Ranges (`4-6 hours`, `1-2 days`) keep both ends.

use serde::{Deserialize, Serialize};

pub const HOURS_PER_DAY: f64 = 8.0;
pub const HOURS_PER_WEEK: f64 = 5.0 * HOURS_PER_DAY;
pub const HOURS_PER_MONTH: f64 = 4.0 * HOURS_PER_WEEK;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Effort {
    pub min_hours: f64,
    pub max_hours: f64,
}

impl Effort {
    pub fn hours(h: f64) -> Effort {
        Effort {
            min_hours: h,
            max_hours: h,
        }
    }

    /// Parse the first effort phrase in `text`: `2 weeks`, `1.5 weeks`, `3 days`, `(8h)`,
    /// `4-6 hours`, `~2 hours`, `30 minutes`, `Small (1-2 days)`, `2w`, `1 month`.
    pub fn parse(text: &str) -> Option<Effort> {
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
                if let Some(e) = parse_at(&chars, i) {
                    return Some(e);
                }
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                continue;
            }
            i += 1;
        }
        None
    }
}

fn number(chars: &[char], mut i: usize) -> Option<(f64, usize)> {
    let start = i;
    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == ',') {
        i += 1;
    }
    let s: String = chars[start..i]
        .iter()
        .map(|c| if *c == ',' { '.' } else { *c })
        .collect();
    let s = s.trim_end_matches('.');
    s.parse::<f64>()
        .ok()
        .map(|v| (v, start + s.chars().count()))
}

fn skip_ws(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() && chars[i].is_whitespace() {
        i += 1;
    }
    i
}

fn parse_at(chars: &[char], i: usize) -> Option<Effort> {
    let (lo, mut j) = number(chars, i)?;
    let mut hi = lo;
    let k = skip_ws(chars, j);
    if k < chars.len() && matches!(chars[k], '-' | '–' | '—' | '~') || starts_word(chars, k, "to")
    {
        let skip = if chars.get(k) == Some(&'t') { 2 } else { 1 };
        let m = skip_ws(chars, k + skip);
        if m < chars.len()
            && chars[m].is_ascii_digit()
            && let Some((v, e)) = number(chars, m)
        {
            hi = v;
            j = e;
        }
    }
    let u = skip_ws(chars, j);
    let unit: String = chars[u..]
        .iter()
        .take_while(|c| c.is_alphabetic())
        .collect::<String>();
    let factor = unit_factor(&unit.to_lowercase())?;
    if !(lo.is_finite() && hi.is_finite()) || hi < lo {
        return None;
    }
    Some(Effort {
        min_hours: lo * factor,
        max_hours: hi * factor,
    })
}

fn starts_word(chars: &[char], i: usize, w: &str) -> bool {
    let wc: Vec<char> = w.chars().collect();
    chars.len() >= i + wc.len()
        && chars[i..i + wc.len()] == wc[..]
        && chars.get(i + wc.len()).is_none_or(|c| c.is_whitespace())
}

fn unit_factor(unit: &str) -> Option<f64> {
    Some(match unit {
        "h" | "hr" | "hrs" | "hour" | "hours" | "heure" | "heures" | "std" | "stunden" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 1.0 / 60.0,
        "d" | "day" | "days" | "jour" | "jours" | "tage" | "tag" => HOURS_PER_DAY,
        "w" | "wk" | "wks" | "week" | "weeks" | "semaine" | "semaines" => HOURS_PER_WEEK,
        "month" | "months" | "mo" | "mois" => HOURS_PER_MONTH,
        "sp" | "pt" | "pts" | "points" | "point" => return None,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Option<(f64, f64)>) {
        let got = Effort::parse(input).map(|e| (e.min_hours, e.max_hours));
        assert_eq!(got, expect, "input {input:?}");
    }

    #[test]
    fn effort_phrases_normalise_to_hours() {
        check("2 weeks", Some((80.0, 80.0)));
        check("1.5 weeks", Some((60.0, 60.0)));
        check("3 days", Some((24.0, 24.0)));
        check("(8h)", Some((8.0, 8.0)));
        check("4-6 hours", Some((4.0, 6.0)));
        check("~2 hours", Some((2.0, 2.0)));
        check("Small (1-2 days)", Some((8.0, 16.0)));
        check("30 minutes", Some((0.5, 0.5)));
        check("1 month", Some((160.0, 160.0)));
        check("8 weeks", Some((320.0, 320.0)));
    }

    #[test]
    fn text_without_a_duration_has_no_effort() {
        check("TBD", None);
        check("Phase 2", None);
        check("5 story points", None);
        check("", None);
    }
}
