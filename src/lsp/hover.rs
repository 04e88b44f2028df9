//! Hover: on a field name its type, default and doc; on an op name its description and fields.

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind};

use super::context::{self, Context, Kind};
use super::position::LineIndex;
use super::schema::{self, Expect};
use crate::span::Span;

/// What to show for the name at byte `offset` of `text`, if it is one munl can describe.
pub(crate) fn hover(text: &str, offset: usize) -> Option<Hover> {
    let tok = context::name_at(text, offset)?;
    let word = &text[tok.start..tok.end];
    let decls = context::declarations(text);
    let called = context::next_after(text, &tok).is_some_and(|n| n.kind == Kind::Punct(b'('));
    let markdown = match context::at(text, tok.start, &decls) {
        Context::FieldName(decl) => {
            let fields = schema::block_fields(decl.kind, context::head_op(&decl, &decls));
            fields.iter().find(|f| f.name == word).map(schema::field_doc)
        }
        Context::ArgName(op) => op.field(word).map(|f| schema::field_doc(&schema::field(f, false))),
        Context::Value(Expect::Ops(category)) => schema::op(word, Some(category)).map(schema::op_doc),
        Context::Value(Expect::Searchable) => {
            schema::DISTRIBUTIONS.iter().find(|(name, _)| *name == word).map(|(_, doc)| doc.to_string())
        }
        Context::TopStart => {
            let kind = schema::kinds().find(|(kind, _)| kind.keyword() == word);
            let setting = schema::settings().into_iter().find(|f| f.name == word);
            kind.map(|(_, doc)| format!("**{word}** — {doc}")).or_else(|| setting.as_ref().map(schema::field_doc))
        }
        _ if called => schema::op(word, None).map(schema::op_doc),
        _ => None,
    }?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }),
        range: Some(LineIndex::new(text).range(Span::new(tok.start, tok.end))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(marked: &str) -> Option<String> {
        let offset = marked.find('|').unwrap();
        let h = hover(&marked.replacen('|', "", 1), offset)?;
        let HoverContents::Markup(m) = h.contents else { panic!("markdown") };
        Some(m.value)
    }

    #[test]
    fn fields_show_type_default_and_doc() {
        let doc = shown("unlearn ft = finetune(original) { epochs = 1; l|r = 0.01 }").unwrap();
        assert!(doc.starts_with("**lr** — a number, default `0.1`"), "{doc}");
        assert!(doc.contains("SGD learning rate"), "{doc}");
        let doc = shown("train t {\n  optim = sgd(moment|um: 0.5)\n}").unwrap();
        assert!(doc.starts_with("**momentum** — a number, default `0.9`"), "{doc}");
        let doc = shown("train t {\n  epo|chs = 3\n}").unwrap();
        assert!(doc.contains("passes over the data"), "{doc}");
    }

    #[test]
    fn ops_show_description_and_fields() {
        let doc = shown("unlearn ft = fine|tune(original)").unwrap();
        assert!(doc.starts_with("**finetune** — an unlearning method, version 1"), "{doc}");
        assert!(doc.contains("- `lr` — a number, default `0.1`"), "{doc}");
        let doc = shown("evaluate e { metrics = [accuracy, m|ia] }").unwrap();
        assert!(doc.starts_with("**mia** — a metric"), "{doc}");
        // `random` the split, not the sampler.
        let doc = shown("dataset d { split = rand|om(val: 0.1) }").unwrap();
        assert!(doc.starts_with("**random** — a split"), "{doc}");
    }

    #[test]
    fn keywords_and_settings_are_described() {
        assert!(shown("unl|earn ft = finetune(o)").unwrap().starts_with("**unlearn** — "));
        assert!(shown("dev|ice = cpu").unwrap().starts_with("**device** — "));
        let doc = shown("evaluate e {\n  metr|ics = [mia]\n}").unwrap();
        assert!(doc.contains("accuracy, mia, indiscernibility, rte"), "{doc}");
    }

    #[test]
    fn names_munl_cannot_describe_show_nothing() {
        assert_eq!(shown("train t { model = n|et }"), None);
        assert_eq!(shown("# fine|tune"), None);
        assert_eq!(shown("unlearn ft = finetune(original) { nonsen|se = 1 }"), None);
    }
}
