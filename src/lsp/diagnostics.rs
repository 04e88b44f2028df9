//! A document's diagnostics as LSP has them: the text compiled as `munl check` compiles a file
//! (parse, lower, plan; nothing run, no cache opened), every problem with its range, severity,
//! stable code, message and help.

use std::path::{Path, PathBuf};

use lsp_types::{Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};
use miette::LabeledSpan;

use crate::source::Source;
use crate::span::Span;

use super::position::LineIndex;

/// The code of the diagnostic an import with problems of its own gets in the importing file.
const BAD_IMPORT: &str = "munl::lower::bad_import";

/// The data root, as the command line has it: `$MUNL_DATA`, else `data/` in the current folder
/// (the folder the editor started the server in).
fn data_root() -> PathBuf {
    let root = std::env::var_os("MUNL_DATA").map_or_else(|| PathBuf::from("data"), PathBuf::from);
    std::path::absolute(&root).unwrap_or(root)
}

/// Every problem of `text`, the content of the document `uri` at `path`. A problem inside a file
/// it imports is attached to the import's own diagnostic as related information, at its place
/// in that file.
pub(crate) fn check(text: &str, path: &Path, uri: &Uri) -> Vec<Diagnostic> {
    let source = Source::new(path, text);
    // `Source` drops a leading byte-order mark; the editor's positions count it.
    let shift = text.len() - source.text.len();
    let Err(diagnostics) = crate::compile::compile(&source, &data_root()) else { return vec![] };
    let index = LineIndex::new(text);
    let mut own = vec![];
    let mut foreign = vec![];
    for (from, d) in diagnostics.iter() {
        if from.path == source.path {
            own.push(convert(d, &index, shift, uri));
        } else if let Some(location) = super::uri::from_path(&from.path).map(|uri| {
            let range = primary(d).map_or_else(Default::default, |s| LineIndex::new(&from.text).range(s));
            Location { uri, range }
        }) {
            foreign.push(DiagnosticRelatedInformation { location, message: with_help(d) });
        }
    }
    for d in own.iter_mut().filter(|d| d.code == Some(NumberOrString::String(BAD_IMPORT.into()))) {
        d.related_information.get_or_insert_with(Vec::new).extend(foreign.iter().cloned());
    }
    own
}

/// One diagnostic of the document: its primary label's range, its help appended to the message,
/// its other labels as related information at their places in the document.
fn convert(d: &dyn miette::Diagnostic, index: &LineIndex, shift: usize, uri: &Uri) -> Diagnostic {
    let shifted = |s: Span| Span { start: s.start + shift, end: s.end + shift };
    let range = primary(d).map_or_else(Default::default, |s| index.range(shifted(s)));
    let labels: Vec<LabeledSpan> = d.labels().map(Iterator::collect).unwrap_or_default();
    let first = labels.iter().position(|l| l.primary()).unwrap_or(0);
    let related: Vec<DiagnosticRelatedInformation> = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != first)
        .filter_map(|(_, l)| {
            Some(DiagnosticRelatedInformation {
                location: Location { uri: uri.clone(), range: index.range(shifted(span(l))) },
                message: l.label()?.to_string(),
            })
        })
        .collect();
    Diagnostic {
        range,
        severity: Some(match d.severity() {
            Some(miette::Severity::Warning) => DiagnosticSeverity::WARNING,
            Some(miette::Severity::Advice) => DiagnosticSeverity::INFORMATION,
            Some(miette::Severity::Error) | None => DiagnosticSeverity::ERROR,
        }),
        code: d.code().map(|c| NumberOrString::String(c.to_string())),
        source: Some("munl".into()),
        message: with_help(d),
        related_information: (!related.is_empty()).then_some(related),
        ..Diagnostic::default()
    }
}

/// The message, then `help: …` on its own line where the diagnostic has help.
fn with_help(d: &dyn miette::Diagnostic) -> String {
    match d.help() {
        Some(help) => format!("{d}\nhelp: {help}"),
        None => d.to_string(),
    }
}

/// Where a diagnostic points: its primary label, else its first.
fn primary(d: &dyn miette::Diagnostic) -> Option<Span> {
    let labels: Vec<LabeledSpan> = d.labels()?.collect();
    labels.iter().find(|l| l.primary()).or(labels.first()).map(span)
}

fn span(l: &LabeledSpan) -> Span {
    Span::new(l.offset(), l.offset() + l.len())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn doc() -> (PathBuf, Uri) {
        (PathBuf::from("/nowhere/x.munl"), Uri::from_str("file:///nowhere/x.munl").unwrap())
    }

    #[test]
    fn an_unknown_field_after_non_ascii_text_has_its_utf16_range_and_help() {
        let (path, uri) = doc();
        let text = "# ± tolerance\nmodel net = cnn(wdith: 4) # ±\n";
        let found = check(text, &path, &uri);
        assert_eq!(found.len(), 1, "{found:?}");
        let d = &found[0];
        assert_eq!(d.range.start, lsp_types::Position { line: 1, character: 16 });
        assert_eq!(d.range.end, lsp_types::Position { line: 1, character: 21 });
        assert_eq!(d.code, Some(NumberOrString::String("munl::lower::unknown_field".into())));
        assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
        assert!(d.message.starts_with("unknown field `wdith`"), "{}", d.message);
        assert!(d.message.contains("help: did you mean `width`?"), "{}", d.message);
    }

    #[test]
    fn a_byte_order_mark_shifts_nothing_the_editor_sees() {
        let (path, uri) = doc();
        let found = check("\u{feff}model net = cnn(wdith: 4)\n", &path, &uri);
        assert_eq!(found[0].range.start, lsp_types::Position { line: 0, character: 17 });
    }

    #[test]
    fn secondary_labels_are_related_information() {
        let (path, uri) = doc();
        let text = "model net = cnn()\nmodel net = cnn()\n";
        let found = check(text, &path, &uri);
        assert_eq!(found.len(), 1, "{found:?}");
        let related = found[0].related_information.as_ref().expect("the first declaration is related");
        assert_eq!(related[0].location.range.start.line, 0);
        assert_eq!(found[0].range.start.line, 1);
    }

    #[test]
    fn a_valid_text_has_no_diagnostics() {
        let (path, uri) = doc();
        assert!(check("model net = cnn(width: 4)\n", &path, &uri).is_empty());
    }
}
