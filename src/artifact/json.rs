//! JSON artifact files in and out. Every error names the file, because a user can only act on
//! a path.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::NodeFailure;

/// Reads and parses a JSON file.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, NodeFailure> {
    let text =
        std::fs::read_to_string(path).map_err(|e| NodeFailure::io(format!("cannot read `{}`: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| NodeFailure::invalid_data(format!("`{}` is not valid: {e}", path.display())))
}

/// Writes a value as pretty JSON.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), NodeFailure> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").map_err(|e| NodeFailure::io(format!("cannot write `{}`: {e}", path.display())))
}
