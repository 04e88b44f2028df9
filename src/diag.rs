//! Helpers shared by every phase's diagnostics: "did you mean" suggestions, rendering as text
//! and as JSON.

use std::fmt;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};

use crate::source::Source;

/// The candidate closest to `name`, if it is close enough to be a likely typo.
///
/// Closeness is the Damerau-Levenshtein distance ignoring case (so a swapped pair of letters
/// counts once); at most a third of the longer word may differ, and always at least one edit
/// is allowed. A candidate equal to `name` is never suggested. On a tie the earlier candidate
/// wins, so callers control the preference by their order.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let distance = strsim::damerau_levenshtein(&lower, &candidate.to_lowercase());
        let longer = name.chars().count().max(candidate.chars().count());
        let allowed = (longer / 3).max(1);
        if distance <= allowed && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate.to_owned())
}

/// Renders a diagnostic against `source` as plain unicode text, 100 columns wide, no colours
/// and no terminal links: stable enough for snapshots, readable when not on a terminal.
pub(crate) fn render_plain(diagnostic: &dyn Diagnostic, source: &Source) -> String {
    render(diagnostic, source, false)
}

/// Renders a diagnostic against `source`; with `colour`, in the terminal theme (the CLI on a
/// terminal), else as `render_plain`.
pub(crate) fn render(diagnostic: &dyn Diagnostic, source: &Source, colour: bool) -> String {
    let theme = if colour { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let named = source.named();
    let with_source = WithSource { inner: diagnostic, source: &named };
    let mut out = String::new();
    handler.render_report(&mut out, &with_source).expect("formatting into a String does not fail");
    out
}

/// A diagnostic as a JSON object (`munl check --json`): `file`, `severity` (`error`, `warning`
/// or `advice`), `code`, `message`, `help`, and `labels`, each with its byte `offset` and
/// `length` in the file's text and 1-based `line` and `column` (in characters) of its start
/// and `end_line`/`end_column` of its end (exclusive).
pub(crate) fn to_json(diagnostic: &dyn Diagnostic, source: &Source) -> serde_json::Value {
    let severity = match diagnostic.severity().unwrap_or(miette::Severity::Error) {
        miette::Severity::Error => "error",
        miette::Severity::Warning => "warning",
        miette::Severity::Advice => "advice",
    };
    let labels: Vec<serde_json::Value> = diagnostic
        .labels()
        .into_iter()
        .flatten()
        .map(|label| {
            let (line, column) = line_column(&source.text, label.offset());
            let (end_line, end_column) = line_column(&source.text, label.offset() + label.len());
            serde_json::json!({
                "message": label.label(),
                "primary": label.primary(),
                "offset": label.offset(),
                "length": label.len(),
                "line": line,
                "column": column,
                "end_line": end_line,
                "end_column": end_column,
            })
        })
        .collect();
    serde_json::json!({
        "file": source.name(),
        "severity": severity,
        "code": diagnostic.code().map(|c| c.to_string()),
        "message": diagnostic.to_string(),
        "help": diagnostic.help().map(|h| h.to_string()),
        "labels": labels,
    })
}

/// The 1-based line and column (in characters) of a byte offset; an offset past the end or
/// inside a character counts from the nearest character boundary before it.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

/// A diagnostic seen through its source text: phases' errors carry spans only.
struct WithSource<'a> {
    inner: &'a dyn Diagnostic,
    source: &'a dyn SourceCode,
}

impl fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner, f)
    }
}

impl fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.inner, f)
    }
}

impl std::error::Error for WithSource<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for WithSource<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.help()
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.inner.url()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.inner.labels()
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        self.inner.related()
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.inner.diagnostic_source()
    }
}

#[cfg(test)]
mod tests {
    use super::{did_you_mean, line_column};

    #[test]
    fn line_and_column_count_characters_from_one() {
        let text = "ab\ncé d\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 2), (1, 3));
        assert_eq!(line_column(text, 3), (2, 1));
        // `é` is two bytes: the space after it is the third character.
        assert_eq!(line_column(text, 6), (2, 3));
        assert_eq!(line_column(text, 5), (2, 2), "inside `é`: its start");
        assert_eq!(line_column(text, 99), (3, 1));
    }

    const KINDS: [&str; 6] = ["dataset", "model", "train", "unlearn", "evaluate", "report"];

    #[test]
    fn suggests_close_names() {
        assert_eq!(did_you_mean("modle", KINDS).as_deref(), Some("model"));
        assert_eq!(did_you_mean("datset", KINDS).as_deref(), Some("dataset"));
        assert_eq!(did_you_mean("Train", KINDS).as_deref(), Some("train"));
        assert_eq!(did_you_mean("evaluat", KINDS).as_deref(), Some("evaluate"));
        assert_eq!(did_you_mean("sdg", ["adam", "sgd"]).as_deref(), Some("sgd"));
    }

    #[test]
    fn rejects_distant_or_identical_names() {
        assert_eq!(did_you_mean("banana", KINDS), None);
        assert_eq!(did_you_mean("x", ["lr", "seed"]), None);
        assert_eq!(did_you_mean("model", KINDS), None);
        assert_eq!(did_you_mean("anything", []), None);
    }

    #[test]
    fn prefers_the_closest_then_the_first() {
        assert_eq!(did_you_mean("epoch", ["epochs", "epoch_"]).as_deref(), Some("epochs"));
        assert_eq!(did_you_mean("lr", ["lr_", "l"]).as_deref(), Some("lr_"));
        assert_eq!(did_you_mean("retain", ["retrain", "retain_"]).as_deref(), Some("retrain"));
    }
}
