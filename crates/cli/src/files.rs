//! File IO for plan commands: read a plan, and write it back atomically, never over a
//! file that changed on disk since it was read.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use taskman_markdown::Document;

/// Largest plan we read: far beyond any real plan, small enough to never exhaust memory.
const MAX_BYTES: u64 = 256 * 1024 * 1024;

pub fn read(path: &Path) -> Result<Document> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.is_dir() {
        bail!("{}: is a directory, not a markdown plan", path.display());
    }
    if meta.len() > MAX_BYTES {
        bail!(
            "{}: {} bytes is larger than the {} byte limit",
            path.display(),
            meta.len(),
            MAX_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    Ok(taskman_markdown::parse(&bytes))
}

/// Replace the file with `new` if it still holds `old`: write a temporary file beside it,
/// flush it to disk, then rename it over the original, so a reader sees either the old
/// or the new file and never half of one.
pub fn write_if_unchanged(path: &Path, old: &[u8], new: &[u8]) -> Result<()> {
    let now = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if now != old {
        bail!(
            "{}: changed on disk since it was read; nothing written, run the command again",
            path.display()
        );
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.taskman-{}.tmp", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        f.write_all(new)?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        // Re-check just before the rename: the window for a lost update is the rename.
        if std::fs::read(path)? != old {
            bail!(
                "{}: changed on disk while writing; nothing written",
                path.display()
            );
        }
        std::fs::rename(&tmp, path)
            .with_context(|| format!("{}: cannot replace", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Today's date in UTC as `YYYY-MM-DD` (civil-from-days, Howard Hinnant's algorithm).
pub fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}
