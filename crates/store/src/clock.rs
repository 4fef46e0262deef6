//! Time as the store records it: RFC 3339 UTC text with milliseconds, which sorts as it
//! reads. The clock is injected so tests can fix it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where the store gets "now" from.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> String + Send + Sync>);

impl Clock {
    pub fn system() -> Clock {
        Clock(Arc::new(|| {
            let d = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            rfc3339(d.as_secs() as i64, d.subsec_millis())
        }))
    }

    /// A clock that always says `at` (tests).
    pub fn fixed(at: &str) -> Clock {
        let at = at.to_string();
        Clock(Arc::new(move || at.clone()))
    }

    pub fn now(&self) -> String {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// `YYYY-MM-DD` for a number of days since 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn civil_date(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y, m, d)
}

pub fn rfc3339(secs: i64, millis: u32) -> String {
    let (y, m, d) = civil_date(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// A time bound as the user writes it (`2026-11-22`, `2026-11-22T10:00:00Z`,
/// `2026-11-22T11:00:00.5+01:00`) in the stored form (`2026-11-22T10:00:00.500Z`), so that
/// comparing stored text compares instants. `None` when it is not RFC 3339.
pub fn normalize(ts: &str) -> Option<String> {
    instant(ts).map(|(secs, millis)| rfc3339(secs, millis))
}

/// `ts` moved by `secs` seconds (earlier when negative), in the stored form; `None` when
/// `ts` is not RFC 3339.
pub(crate) fn shifted(ts: &str, secs: i64) -> Option<String> {
    instant(ts).map(|(s, millis)| rfc3339(s + secs, millis))
}

/// True for a calendar date written `YYYY-MM-DD` (a day that exists: no 2026-02-30).
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let d = &b[r];
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(d).ok()?.parse().ok())?
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Seconds since 1970 and milliseconds of an RFC 3339 time (or a bare date: its midnight UTC).
fn instant(ts: &str) -> Option<(i64, u32)> {
    let b = ts.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(b.get(r)?).ok()?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return Some((days * 86_400, 0));
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0u32;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = std::str::from_utf8(&b[start..i.min(start + 3)]).ok()?;
        millis = format!("{frac:0<3}").parse().ok()?;
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b[i + 3] == b':' => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset, millis))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    #[test]
    fn time_bounds_are_read_in_every_rfc3339_spelling() {
        use super::normalize;
        assert_eq!(normalize("2026-11-22").unwrap(), "2026-11-22T00:00:00.000Z");
        assert_eq!(
            normalize("2026-11-22T10:00:00Z").unwrap(),
            "2026-11-22T10:00:00.000Z"
        );
        assert_eq!(
            normalize("2026-11-22T11:00:00.5+01:00").unwrap(),
            "2026-11-22T10:00:00.500Z"
        );
        assert_eq!(
            normalize("2026-11-22T00:30:00-01:00").unwrap(),
            "2026-11-22T01:30:00.000Z"
        );
        assert_eq!(
            normalize("2026-03-01T00:00:00.123456Z").unwrap(),
            "2026-03-01T00:00:00.123Z"
        );
        assert_eq!(normalize("yesterday"), None);
        assert_eq!(normalize("2026-13-01"), None);
        assert_eq!(normalize("2026-11-22T10:00"), None);
    }

    #[test]
    fn times_shift_across_days_and_years() {
        use super::shifted;
        assert_eq!(
            shifted("2026-11-22T10:00:00.250Z", -86_400).unwrap(),
            "2026-11-21T10:00:00.250Z"
        );
        assert_eq!(
            shifted("2027-01-01T00:00:30.000Z", -60).unwrap(),
            "2026-12-31T23:59:30.000Z"
        );
        assert_eq!(shifted("now", 1), None);
    }

    #[test]
    fn only_days_that_exist_are_dates() {
        use super::is_date;
        for ok in ["2026-11-23", "2024-02-29", "2000-02-29", "2026-12-31"] {
            assert!(is_date(ok), "{ok}");
        }
        for bad in [
            "2026-02-29",
            "1900-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "2026-11-00",
            "2026-1-05",
            "26-11-23",
            "2026/11/23",
            "2026-11-23T00:00:00Z",
            "next week",
            "+026-11-23",
            "",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(super::rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_795_305_600 + 3723, 5),
            "2026-11-22T01:02:03.005Z"
        );
    }
}
