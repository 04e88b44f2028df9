//! Completion: what may be written at the cursor, by its context — declaration keywords and
//! settings at a line's start, the fields of a block or a call (each with its type and default
//! in `detail`, its help in `documentation`), and the ops, words, declarations or distributions
//! a value may be.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};

use crate::ops::Category;
use crate::syntax::ast::DeclKind;

use super::context::{self, Context};
use super::schema::{self, Expect, Field};

/// The completions at byte `offset` of `text`, in the order they should be offered.
pub(crate) fn complete(text: &str, offset: usize) -> Vec<CompletionItem> {
    let decls = context::declarations(text);
    match context::at(text, offset, &decls) {
        Context::TopStart => {
            let kinds = schema::kinds().map(|(kind, doc)| {
                let keyword = kind.keyword();
                item(keyword, CompletionItemKind::KEYWORD, "declaration", doc, Some(format!("{keyword} ")))
            });
            let settings: Vec<CompletionItem> = schema::settings()
                .iter()
                .map(|f| item(f.name, CompletionItemKind::PROPERTY, &f.detail, &f.doc, Some(format!("{} = ", f.name))))
                .collect();
            let import = item(
                "import",
                CompletionItemKind::KEYWORD,
                "import",
                "`import \"other.munl\" as x`: the other file's declarations, as `x.NAME`",
                Some("import ".into()),
            );
            kinds.chain(settings).chain([import]).collect()
        }
        Context::FieldName(decl) => {
            let fields = schema::block_fields(decl.kind, context::head_op(&decl, &decls));
            fields.iter().map(|f| field_item(f, " = ")).collect()
        }
        Context::ArgName(op) => schema::fields_of(op, false).iter().map(|f| field_item(f, ": ")).collect(),
        Context::Value(expect) => values(expect, &decls),
        Context::Nothing => vec![],
    }
}

/// What a value of this kind may be.
fn values(expect: Expect, decls: &[context::DeclSummary]) -> Vec<CompletionItem> {
    match expect {
        Expect::Ops(category) => schema::ops_in(category)
            .map(|op| {
                let kind =
                    if category == Category::Metric { CompletionItemKind::VALUE } else { CompletionItemKind::FUNCTION };
                item(op.name, kind, &schema::op_detail(op), &schema::op_doc(op), None)
            })
            .collect(),
        Expect::Words(words) => words.iter().map(|w| item(w, CompletionItemKind::ENUM_MEMBER, "", "", None)).collect(),
        Expect::Decls(kinds) => {
            let mut names: Vec<CompletionItem> = decls
                .iter()
                .filter(|d| kinds.contains(&d.kind))
                .filter_map(|d| {
                    let name = d.name.as_deref()?;
                    Some(item(name, CompletionItemKind::VARIABLE, d.kind.keyword(), "", None))
                })
                .collect();
            if kinds.contains(&DeclKind::Dim) {
                names.push(item("seed", CompletionItemKind::VARIABLE, "dim", "the model seeds of `seeds = …`", None));
            }
            names
        }
        Expect::Subsets => decls
            .iter()
            .filter(|d| d.kind == DeclKind::Dataset)
            .filter_map(|d| d.name.as_deref())
            .flat_map(|name| {
                schema::SUBSETS.iter().map(move |s| {
                    item(&format!("{name}.{s}"), CompletionItemKind::VARIABLE, "dataset subset", "", None)
                })
            })
            .collect(),
        Expect::Searchable => schema::DISTRIBUTIONS
            .iter()
            .map(|(name, doc)| item(name, CompletionItemKind::FUNCTION, "a searched value", doc, None))
            .collect(),
        Expect::Anything => vec![],
    }
}

/// A field, inserted with what follows its name (` = ` in a block, `: ` in a call).
fn field_item(f: &Field, then: &str) -> CompletionItem {
    item(f.name, CompletionItemKind::FIELD, &f.detail, &f.doc, Some(format!("{}{then}", f.name)))
}

fn item(label: &str, kind: CompletionItemKind, detail: &str, doc: &str, insert: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        documentation: (!doc.is_empty()).then(|| {
            Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value: doc.to_string() })
        }),
        insert_text: insert,
        ..CompletionItem::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(marked: &str) -> Vec<String> {
        let offset = marked.find('|').unwrap();
        complete(&marked.replacen('|', "", 1), offset).into_iter().map(|i| i.label).collect()
    }

    #[test]
    fn an_unlearn_block_offers_its_methods_fields_with_defaults() {
        let text = "unlearn ft = finetune(original) {\n  epochs = 5\n  \n}";
        let offset = text.find("\n}").unwrap();
        let items = complete(text, offset);
        let lr = items.iter().find(|i| i.label == "lr").expect("`lr` is offered");
        assert_eq!(lr.detail.as_deref(), Some("a number, default `0.1`"));
        assert_eq!(lr.insert_text.as_deref(), Some("lr = "));
        let Some(Documentation::MarkupContent(doc)) = &lr.documentation else { panic!("documented") };
        assert!(doc.value.contains("SGD learning rate"), "{}", doc.value);
        assert!(items.iter().any(|i| i.label == "tune"));
    }

    #[test]
    fn values_are_offered_by_place() {
        assert!(labels("unlearn ft = |").contains(&"neggrad_plus".to_string()));
        assert!(!labels("unlearn ft = |").contains(&"sgd".to_string()));
        assert_eq!(labels("train t {\n  sched = |"), ["cosine", "constant"]);
        assert_eq!(labels("model net = cnn()\ntrain t {\n  model = |"), ["net"]);
        assert_eq!(
            labels("dataset toy { source = synthetic() }\ntrain t { data = |")[..2],
            ["toy.train", "toy.retain"]
        );
        assert!(labels("unlearn u = finetune(o) {\n  lr = |").contains(&"log_uniform".to_string()));
        assert!(labels("|").contains(&"unlearn".to_string()));
        assert_eq!(labels("train t { optim = adam(|) }"), ["lr", "weight_decay"]);
        assert!(labels("# unlearn ft = |").is_empty());
        assert_eq!(labels("evaluate e {\n  |\n}"), ["models", "reference", "metrics", "over"]);
        assert!(labels("dataset d {\n  |").starts_with(&["source".to_string(), "split".to_string()]));
        assert!(labels("seeds = 0..2\n|").contains(&"device".to_string()));
    }
}
