//! Priority, normalised from every way plans write it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Priority {
    Critical,
    High,
    Medium,
    Low,
}

impl Priority {
    /// `CRITICAL`, `High`, `P0`-`P3` (P0 critical .. P3 low), `urgent`, `🔴 Critical`, the
    /// Obsidian Tasks signifiers (🔺 ⏫ 🔼 🔽 ⏬) and the `[#A]` org-mode cookie.
    pub fn parse(text: &str) -> Option<Priority> {
        let t = text.trim();
        for (sig, p) in [
            ("🔺", Priority::Critical),
            ("⏫", Priority::High),
            ("🔼", Priority::Medium),
            ("🔽", Priority::Low),
            ("⏬", Priority::Low),
            ("🔴", Priority::Critical),
            ("🟠", Priority::High),
            ("🟡", Priority::Medium),
            ("🟢", Priority::Low),
        ] {
            if let Some(rest) = t.strip_prefix(sig) {
                let rest = rest.trim();
                return Priority::parse_word(rest).or(Some(p));
            }
        }
        Priority::parse_word(t)
    }

    fn parse_word(t: &str) -> Option<Priority> {
        let word: String = t
            .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '#')
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '#')
            .collect::<String>()
            .to_ascii_lowercase();
        Some(match word.as_str() {
            "critical" | "p0" | "urgent" | "blocker" | "highest" | "must" | "#a" => {
                Priority::Critical
            }
            "high" | "p1" | "important" | "should" | "#b" => Priority::High,
            "medium" | "p2" | "normal" | "moderate" | "med" | "#c" => Priority::Medium,
            "low" | "p3" | "p4" | "lowest" | "minor" | "nice" | "optional" => Priority::Low,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Medium => "medium",
            Priority::Low => "low",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Priority::{self, *};

    fn check(input: &str, expect: Option<Priority>) {
        assert_eq!(Priority::parse(input), expect, "input {input:?}");
    }

    #[test]
    fn priority_spellings_normalise() {
        check("CRITICAL", Some(Critical));
        check("HIGH  ", Some(High));
        check("P0", Some(Critical));
        check("P1", Some(High));
        check("P2", Some(Medium));
        check("P3", Some(Low));
        check("Medium", Some(Medium));
        check("⏫", Some(High));
        check("🔽", Some(Low));
        check("🔴 URGENT", Some(Critical));
        check("[#A]", Some(Critical));
        check("soon", None);
    }
}
