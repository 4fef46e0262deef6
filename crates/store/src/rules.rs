//! Checks and helpers both backends apply the same way.

use crate::error::{Result, StoreError};
use crate::model::Page;

pub(crate) fn not_found(entity: &'static str, id: impl ToString) -> StoreError {
    StoreError::NotFound {
        entity,
        id: id.to_string(),
    }
}

pub(crate) fn check_name(what: &str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::Invalid(format!("{what} must not be empty")));
    }
    Ok(())
}

/// A change made against version `expected` of something now at `current` is refused.
pub(crate) fn check_version(
    entity: &'static str,
    id: i64,
    expected: Option<i64>,
    current: i64,
) -> Result<()> {
    match expected {
        Some(e) if e != current => Err(StoreError::VersionConflict {
            entity,
            id,
            expected: e,
            current,
        }),
        _ => Ok(()),
    }
}

/// Cut a page fetched with `limit + 1` rows and set its cursor.
pub(crate) fn paged<T>(
    mut items: Vec<T>,
    limit: i64,
    total: i64,
    id: impl Fn(&T) -> i64,
) -> Page<T> {
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(&id)
    } else {
        None
    };
    Page { items, next, total }
}

/// The fields that differ between two JSON-serialised records, as (before, after).
pub(crate) fn changed_fields<T: serde::Serialize>(
    before: &T,
    after: &T,
) -> (serde_json::Value, serde_json::Value) {
    let (b, a) = (serde_json::json!(before), serde_json::json!(after));
    let (mut ob, mut oa) = (serde_json::Map::new(), serde_json::Map::new());
    if let (Some(bm), Some(am)) = (b.as_object(), a.as_object()) {
        for (k, v) in am {
            if matches!(k.as_str(), "version" | "updated_at") {
                continue;
            }
            if bm.get(k) != Some(v) {
                ob.insert(k.clone(), bm.get(k).cloned().unwrap_or_default());
                oa.insert(k.clone(), v.clone());
            }
        }
    }
    (ob.into(), oa.into())
}

/// FTS query words for user text: each word quoted, so operators in the text are words.
pub(crate) fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}
