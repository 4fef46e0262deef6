//! Which task of a new version of a plan is which task of the old one.
//!
//! Re-importing an edited plan must not lose or duplicate a step. Tasks are matched the way a
//! person would: first by the id the document gives them, then by title, then by position
//! (the k-th task of a section is still the k-th task when only its wording changed).
//! Whatever is left unmatched was added or removed.

use std::collections::HashMap;

use crate::ids::normalize;

/// What the matcher needs to know about one task of either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// Title of the section the task stands in.
    pub section: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Id,
    Title,
    Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub old: usize,
    pub new: usize,
    pub by: MatchedBy,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matching {
    /// Sorted by `new`.
    pub pairs: Vec<Match>,
    /// New tasks with no old counterpart, in order.
    pub added: Vec<usize>,
    /// Old tasks with no new counterpart, in order.
    pub removed: Vec<usize>,
}

/// Match the tasks of two versions. Each task is matched at most once.
pub fn match_tasks(old: &[Known<'_>], new: &[Known<'_>]) -> Matching {
    if old.is_empty() {
        return Matching {
            added: (0..new.len()).collect(),
            ..Matching::default()
        };
    }
    // The common re-import (boxes ticked, words changed, nothing added or moved) keeps the
    // very same ids in the very same order: pair in place without hashing anything.
    if old.len() == new.len() && old.iter().zip(new).all(|(o, n)| o.id == n.id) {
        return Matching {
            pairs: (0..new.len())
                .map(|i| Match {
                    old: i,
                    new: i,
                    by: MatchedBy::Id,
                })
                .collect(),
            ..Matching::default()
        };
    }
    let mut old_taken = vec![false; old.len()];
    let mut new_of: Vec<Option<(usize, MatchedBy)>> = vec![None; new.len()];

    // 1. Ids. An id written twice in one version is not a reliable key for either copy.
    let old_ids = unique_index(old.iter().map(|k| normalize(k.id)));
    let new_ids = unique_index(new.iter().map(|k| normalize(k.id)));
    for (id, &n) in &new_ids {
        if let Some(&o) = old_ids.get(id) {
            old_taken[o] = true;
            new_of[n] = Some((o, MatchedBy::Id));
        }
    }

    // 2. Titles, preferring a candidate in the same section, then the first in order.
    let mut by_title: HashMap<String, Vec<usize>> = HashMap::new();
    for (o, k) in old.iter().enumerate() {
        if !old_taken[o] {
            by_title.entry(title_key(k.title)).or_default().push(o);
        }
    }
    for (n, k) in new.iter().enumerate() {
        if new_of[n].is_some() {
            continue;
        }
        let Some(cands) = by_title.get_mut(&title_key(k.title)) else {
            continue;
        };
        let pick = cands
            .iter()
            .position(|&o| old[o].section == k.section)
            .or(if cands.is_empty() { None } else { Some(0) });
        if let Some(p) = pick {
            let o = cands.remove(p);
            old_taken[o] = true;
            new_of[n] = Some((o, MatchedBy::Title));
        }
    }

    // 3. Position: same section, same ordinal within it.
    let old_slots = ordinals(old);
    let new_slots = ordinals(new);
    let slot_index: HashMap<(Option<&str>, usize), usize> = old_slots
        .iter()
        .enumerate()
        .map(|(o, &(s, k))| ((s, k), o))
        .collect();
    for (n, slot) in new_slots.iter().enumerate() {
        if new_of[n].is_some() {
            continue;
        }
        if let Some(&o) = slot_index.get(slot)
            && !old_taken[o]
        {
            old_taken[o] = true;
            new_of[n] = Some((o, MatchedBy::Position));
        }
    }

    let mut m = Matching::default();
    for (n, v) in new_of.iter().enumerate() {
        match v {
            Some((o, by)) => m.pairs.push(Match {
                old: *o,
                new: n,
                by: *by,
            }),
            None => m.added.push(n),
        }
    }
    m.removed = (0..old.len()).filter(|&o| !old_taken[o]).collect();
    m
}

/// Titles compared without case and runs of white space.
fn title_key(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn unique_index(keys: impl Iterator<Item = String>) -> HashMap<String, usize> {
    let mut seen: HashMap<String, Option<usize>> = HashMap::new();
    for (i, k) in keys.enumerate() {
        if k.is_empty() {
            continue;
        }
        seen.entry(k).and_modify(|v| *v = None).or_insert(Some(i));
    }
    seen.into_iter()
        .filter_map(|(k, v)| v.map(|i| (k, i)))
        .collect()
}

fn ordinals<'a>(tasks: &[Known<'a>]) -> Vec<(Option<&'a str>, usize)> {
    let mut count: HashMap<Option<&'a str>, usize> = HashMap::new();
    tasks
        .iter()
        .map(|k| {
            let c = count.entry(k.section).or_default();
            *c += 1;
            (k.section, *c - 1)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k<'a>(id: &'a str, title: &'a str, section: &'a str) -> Known<'a> {
        Known {
            id,
            title,
            section: Some(section),
        }
    }

    #[test]
    fn explicit_ids_match_even_when_title_and_section_change() {
        let old = [
            k("A-1", "Write parser", "P1"),
            k("A-2", "Write tests", "P1"),
        ];
        let new = [
            k("A-2", "Write tests", "P1"),
            k("A-1", "Write the parser", "P2"),
        ];
        let m = match_tasks(&old, &new);
        assert_eq!(
            m.pairs,
            vec![
                Match {
                    old: 1,
                    new: 0,
                    by: MatchedBy::Id
                },
                Match {
                    old: 0,
                    new: 1,
                    by: MatchedBy::Id
                },
            ]
        );
        assert!(m.added.is_empty() && m.removed.is_empty());
    }

    #[test]
    fn a_task_whose_slug_changed_is_found_by_title_in_another_section() {
        let old = [k("p1/deploy", "Deploy", "P1")];
        let new = [k("p2/deploy", "deploy ", "P2")];
        let m = match_tasks(&old, &new);
        assert_eq!(
            m.pairs,
            vec![Match {
                old: 0,
                new: 0,
                by: MatchedBy::Title
            }]
        );
    }

    #[test]
    fn a_reworded_task_keeps_its_place_and_is_matched_by_position() {
        let old = [
            k("s/a", "Alpha", "S"),
            k("s/b", "Beta", "S"),
            k("s/c", "Gamma", "S"),
        ];
        let new = [
            k("s/a", "Alpha", "S"),
            k("s/b2", "Beta, reworded", "S"),
            k("s/c", "Gamma", "S"),
        ];
        let m = match_tasks(&old, &new);
        assert_eq!(
            m.pairs[1],
            Match {
                old: 1,
                new: 1,
                by: MatchedBy::Position
            }
        );
        assert!(m.added.is_empty() && m.removed.is_empty());
    }

    #[test]
    fn deleted_and_inserted_tasks_are_reported() {
        let old = [k("s/a", "Alpha", "S"), k("s/b", "Beta", "S")];
        let new = [k("s/a", "Alpha", "S"), k("t/z", "Zeta", "T")];
        let m = match_tasks(&old, &new);
        assert_eq!(m.pairs.len(), 1);
        assert_eq!(m.added, vec![1]);
        assert_eq!(m.removed, vec![1]);
    }

    #[test]
    fn the_same_ids_in_the_same_order_pair_in_place() {
        let old = [k("A", "One", "S"), k("B", "Two", "S")];
        let new = [k("A", "One, reworded", "S"), k("B", "Two", "T")];
        let m = match_tasks(&old, &new);
        assert_eq!(
            m.pairs,
            vec![
                Match {
                    old: 0,
                    new: 0,
                    by: MatchedBy::Id
                },
                Match {
                    old: 1,
                    new: 1,
                    by: MatchedBy::Id
                },
            ]
        );
    }

    #[test]
    fn duplicate_ids_fall_back_to_titles() {
        let old = [k("X", "One", "S"), k("X", "Two", "S")];
        let new = [k("X", "Two", "S"), k("X", "One", "S"), k("Y", "Three", "S")];
        let m = match_tasks(&old, &new);
        assert_eq!(
            m.pairs[0],
            Match {
                old: 1,
                new: 0,
                by: MatchedBy::Title
            }
        );
        assert_eq!(
            m.pairs[1],
            Match {
                old: 0,
                new: 1,
                by: MatchedBy::Title
            }
        );
    }
}
