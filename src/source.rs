//! A loaded `.munl` file: its display name and text.

use std::path::{Path, PathBuf};

/// One source file. Spans index into `text`.
#[derive(Clone, Debug)]
pub struct Source {
    /// Where it was read from; relative report paths resolve against its folder.
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// A source of this text; a leading UTF-8 byte-order mark, which some editors write, is
    /// not part of it.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Source {
        let text = text.into();
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        Source { path: path.into(), text }
    }

    /// Reads a file; text that is not UTF-8 is an error that says where the first bad byte is.
    pub fn read(path: &Path) -> std::io::Result<Source> {
        let bytes = std::fs::read(path)?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(path, text)),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
                let message =
                    format!("not UTF-8: invalid byte 0x{:02x} at byte offset {at} (line {line})", e.as_bytes()[at]);
                Err(std::io::Error::new(std::io::ErrorKind::InvalidData, message))
            }
        }
    }

    /// The name shown in diagnostics.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// For rendering: miette needs the text together with a name.
    pub fn named(&self) -> miette::NamedSource<String> {
        miette::NamedSource::new(self.name(), self.text.clone())
    }
}
