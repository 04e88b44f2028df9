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
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Source {
        Source { path: path.into(), text: text.into() }
    }

    pub fn read(path: &Path) -> std::io::Result<Source> {
        Ok(Source::new(path, std::fs::read_to_string(path)?))
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
