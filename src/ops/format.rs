//! The formats a `report` can write, as a type: the field name in a `report` block, the file
//! the report node renders into its cache entry, and the order they are listed in.

use serde::{Deserialize, Serialize};

/// One output format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    Markdown,
    Csv,
    Json,
    Latex,
    /// `.svg`, or `.png` when the path asks for it.
    Plot,
    /// One self-contained page (`.html`): the tables, the provenance, the searches, the plots.
    Html,
}

impl Format {
    /// Every format, in the order reports list them.
    pub(crate) const ALL: [Format; 6] =
        [Format::Markdown, Format::Csv, Format::Json, Format::Latex, Format::Plot, Format::Html];

    /// The field name in a `report` block.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Latex => "latex",
            Format::Plot => "plot",
            Format::Html => "html",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The file a report node renders this format into, inside its cache entry.
    pub(crate) fn file(self) -> &'static str {
        match self {
            Format::Markdown => "report.md",
            Format::Csv => "report.csv",
            Format::Json => "report.json",
            Format::Latex => "report.tex",
            Format::Plot => "report.svg",
            Format::Html => "report.html",
        }
    }
}
