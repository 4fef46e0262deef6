//! Task ids: recognising them in text, comparing them, and deriving slugs.

/// Canonical form for comparing ids: lower case, with spaces, hyphens, underscores and
/// dots between letters and digits folded away (`Step 7` = `step-7` = `STEP7`).
pub fn normalize(id: &str) -> String {
    id.trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '_' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A slug for ids derived from text: lower-case letters and digits (any script) joined by
/// single hyphens, at most `max` characters, cut at a word boundary.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.extend(c.to_lowercase());
        } else {
            pending_dash = true;
        }
    }
    if out.chars().count() > max {
        let cut: String = out.chars().take(max).collect();
        let cut = match cut.rfind('-') {
            Some(p) if p > max / 2 => cut[..p].to_string(),
            _ => cut,
        };
        return cut;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_ignoring_case_and_separators() {
        assert_eq!(normalize("Step 7"), normalize("step-7"));
        assert_eq!(normalize("CORE-001"), normalize("core_001"));
        assert_ne!(normalize("Step 7"), normalize("Step 70"));
    }

    #[test]
    fn slugs_keep_letters_of_any_script_and_drop_punctuation() {
        assert_eq!(
            slug("**Install** structured-logging library!", 60),
            "install-structured-logging-library"
        );
        assert_eq!(slug("🎯 Phase 1: Production", 60), "phase-1-production");
        assert_eq!(slug("入力システム 実装", 60), "入力システム-実装");
        assert_eq!(slug("alpha beta gamma delta", 12), "alpha-beta");
    }
}
