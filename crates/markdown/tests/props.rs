//! Property tests: on generated plans, parsing gives back the same bytes, and a status
//! edit changes exactly the edited task's line and reads back as that status.

use proptest::prelude::*;
use taskman_core::Status;
use taskman_markdown::{parse, set_status};

/// One generated line: a heading, a task (indent, bullet, marker, title, status words), or
/// prose; joined with LF or CRLF, with or without a BOM.
fn line() -> impl Strategy<Value = String> {
    let title = "[A-Za-zéü漢 ]{1,20}";
    prop_oneof![
        (1usize..4, title).prop_map(|(l, t)| format!("{} {t}", "#".repeat(l))),
        (
            0usize..3,
            prop::sample::select(vec!["-", "*", "+", "1."]),
            prop::sample::select(vec![" ", "x", "X", "/", "-", ">"]),
            title,
            prop::sample::select(vec![
                "",
                " ✅ **COMPLETED**",
                " 🔄 **IN PROGRESS**",
                " (READY)",
                " 📅 2025-01-02"
            ]),
        )
            .prop_map(|(ind, b, m, t, s)| format!("{}{b} [{m}] {t}{s}", "  ".repeat(ind))),
        title.prop_map(|t| t.to_string()),
        Just(String::new()),
    ]
}

fn plan() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(line(), 1..40),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, bom)| {
            let mut s = if bom {
                "\u{FEFF}".to_string()
            } else {
                String::new()
            };
            for l in lines {
                s.push_str(&l);
                s.push_str(if crlf { "\r\n" } else { "\n" });
            }
            s.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsing_keeps_the_bytes(src in plan()) {
        prop_assert_eq!(parse(&src).bytes, src);
    }

    #[test]
    fn a_status_edit_changes_only_that_tasks_line(src in plan(), pick in any::<prop::sample::Index>(), to in prop::sample::select(vec![Status::Done, Status::Todo, Status::InProgress])) {
        let doc = parse(&src);
        prop_assume!(!doc.plan.tasks.is_empty());
        let i = pick.index(doc.plan.tasks.len());
        let t = &doc.plan.tasks[i];
        let new = set_status(&doc, &t.id, to, "2026-11-22").unwrap();
        let a: Vec<&[u8]> = src.split(|b| *b == b'\n').collect();
        let b: Vec<&[u8]> = new.split(|b| *b == b'\n').collect();
        prop_assert_eq!(a.len(), b.len());
        let changed: Vec<usize> = a.iter().zip(&b).enumerate().filter(|(_, (x, y))| x != y).map(|(k, _)| k + 1).collect();
        prop_assert!(changed.iter().all(|&l| l == t.line as usize), "changed {:?}, task line {}", changed, t.line);
        let again = parse(&new);
        prop_assert_eq!(again.plan.tasks.len(), doc.plan.tasks.len());
        prop_assert_eq!(again.plan.tasks[i].status, to);
    }
}
