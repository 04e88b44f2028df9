//! What the editor may write where, read from the catalogue: the fields of each declaration kind
//! (of the op a `model` or `unlearn` names), what a field's value may be, and how to describe an
//! op or a field in a completion or a hover.

use std::fmt::Write as _;

use crate::ops::{self, Absent, Category, DeclSpec, FieldSpec, OpSpec, Ty};
use crate::syntax::ast::DeclKind;

/// What may be written at a value's place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Expect {
    /// An op of this category: `optim = sgd(…)`, `metrics = [accuracy]`.
    Ops(Category),
    /// One of these bare names.
    Words(&'static [&'static str]),
    /// The name of a declaration of one of these kinds.
    Decls(&'static [DeclKind]),
    /// `<dataset>.<subset>`: a train's `data`.
    Subsets,
    /// A number of an `unlearn` block, which may also be searched: the distributions.
    Searchable,
    /// Nothing the server can list (a string, a number).
    Anything,
}

/// One field a block or a call takes, described.
#[derive(Clone, Debug)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    /// Its type and default, one line: ``a number, default `0.1` ``.
    pub(crate) detail: String,
    /// What it means (and where a search looks), Markdown.
    pub(crate) doc: String,
    pub(crate) expect: Expect,
}

/// The declaration of this kind in the catalogue of declarations.
fn declaration(kind: DeclKind) -> Option<&'static DeclSpec> {
    ops::DECLARATIONS.iter().find(|d| d.keyword == kind.keyword())
}

/// The declaration keywords, each with what it declares.
pub(crate) fn kinds() -> impl Iterator<Item = (DeclKind, &'static str)> {
    DeclKind::ALL.into_iter().map(|kind| (kind, declaration(kind).map_or("", |d| d.doc)))
}

/// The file-wide settings (`seeds`, `device`), described.
pub(crate) fn settings() -> Vec<Field> {
    let settings = ops::DECLARATIONS.iter().find(|d| d.keyword == "settings");
    settings
        .map(|d| d.fields.iter().map(|f| own_field(None, f.name, f.ty, f.absent, f.doc)).collect())
        .unwrap_or_default()
}

/// The subsets of a dataset a `train` may read: `toy.retain`.
pub(crate) const SUBSETS: &[&str] = &["train", "retain", "forget", "val", "test"];

const DEVICES: &[&str] = &["auto", "cpu", "cuda"];

/// What a setting's value may be.
pub(crate) fn setting(name: &str) -> Expect {
    if name == "device" {
        Expect::Words(DEVICES)
    } else {
        Expect::Anything
    }
}

/// The op a declaration's head constructs, for each kind whose head is a call.
pub(crate) fn head_category(kind: DeclKind) -> Option<Category> {
    match kind {
        DeclKind::Dataset => Some(Category::Source),
        DeclKind::Model => Some(Category::Arch),
        DeclKind::Unlearn => Some(Category::Method),
        _ => None,
    }
}

/// What the head of a declaration may be: the op it constructs, or a same-kind parent.
pub(crate) fn head(kind: DeclKind) -> Expect {
    match kind {
        DeclKind::Dataset => Expect::Ops(Category::Source),
        DeclKind::Model => Expect::Ops(Category::Arch),
        DeclKind::Unlearn => Expect::Ops(Category::Method),
        DeclKind::Train => Expect::Decls(&[DeclKind::Train]),
        DeclKind::Evaluate => Expect::Decls(&[DeclKind::Evaluate]),
        DeclKind::Report => Expect::Decls(&[DeclKind::Report]),
        DeclKind::Dim => Expect::Anything,
    }
}

/// The fields of a block of `kind` whose head constructs `op` (the method of an `unlearn`, the
/// architecture of a `model`; `None` where it is unknown or the kind calls none): the called
/// op's fields, then the declaration's own (`tune`), or the fields of the op it is (`train`).
pub(crate) fn block_fields(kind: DeclKind, op: Option<&'static OpSpec>) -> Vec<Field> {
    let Some(spec) = declaration(kind) else { return vec![] };
    let mut fields = vec![];
    if spec.calls.is_some() {
        fields.extend(op.map(|op| fields_of(op, kind == DeclKind::Unlearn)).unwrap_or_default());
    }
    if let Some(op) = spec.op.and_then(|(category, name)| ops::find(category, name)) {
        fields.extend(fields_of(op, false).into_iter().map(|mut f| {
            f.expect = own_expect(Some(kind), f.name).unwrap_or(f.expect);
            f
        }));
    }
    fields.extend(spec.fields.iter().map(|f| own_field(Some(kind), f.name, f.ty, f.absent, f.doc)));
    fields
}

/// A declaration's own field (or a setting, with no kind), described.
fn own_field(kind: Option<DeclKind>, name: &'static str, ty: &str, absent: Absent, doc: &str) -> Field {
    let absent = match absent {
        Absent::Required => "required".to_string(),
        Absent::Default(d) => d.value().map_or_else(|| "required".into(), |v| format!("default `{v}`")),
        Absent::Written(w) => format!("default `{w}`"),
        Absent::Means(m) => format!("if absent: {m}"),
    };
    let expect = match kind {
        Some(kind) => own_expect(Some(kind), name).unwrap_or(Expect::Anything),
        None => setting(name),
    };
    Field { name, detail: format!("{ty}, {absent}"), doc: doc.to_string(), expect }
}

/// What a declaration's own field (or its op's field, where the declaration says more than the
/// op's type) takes, where the server can list it.
fn own_expect(kind: Option<DeclKind>, field: &str) -> Option<Expect> {
    use DeclKind::{Dataset, Dim, Evaluate, Model, Report, Train, Unlearn};
    Some(match (kind?, field) {
        (Dataset, "source") => Expect::Ops(Category::Source),
        (Dataset, "split") => Expect::Ops(Category::Split),
        (Train, "model") => Expect::Decls(&[Model]),
        (Train, "data") => Expect::Subsets,
        (Unlearn, "tune") => Expect::Ops(Category::Search),
        (Evaluate, "models") => Expect::Decls(&[Train, Unlearn]),
        (Evaluate, "reference") => Expect::Decls(&[Train]),
        (Evaluate, "metrics") => Expect::Ops(Category::Metric),
        (Evaluate, "over") => Expect::Decls(&[Dim]),
        (Report, "evaluate") => Expect::Decls(&[Evaluate]),
        _ => return None,
    })
}

/// An op's fields; in an `unlearn` block (`searchable`) numbers may also be distributions.
pub(crate) fn fields_of(op: &'static OpSpec, searchable: bool) -> Vec<Field> {
    op.fields.iter().map(|f| field(f, searchable)).collect()
}

/// A catalogue field, described.
pub(crate) fn field(f: &'static FieldSpec, searchable: bool) -> Field {
    let default = match f.default.value() {
        Some(v) => format!("default `{v}`"),
        None => "required".into(),
    };
    let mut doc = f.doc.to_string();
    if let Some(space) = f.space {
        let _ = write!(doc, "\n\nreference search space: `{space}`");
    }
    let expect = match f.ty {
        Ty::Call(category) => Expect::Ops(category),
        Ty::Word(words) => Expect::Words(words),
        Ty::Int { .. } | Ty::Float { .. } | Ty::Floats { .. } if searchable => Expect::Searchable,
        _ => Expect::Anything,
    };
    Field { name: f.name, detail: format!("{}, {default}", f.ty.describe()), doc, expect }
}

/// The ops a file may write in `category`, in catalogue order.
pub(crate) fn ops_in(category: Category) -> impl Iterator<Item = &'static OpSpec> {
    ops::in_category(category)
}

/// The op called `name`: of `category` where the place says, else the first a file may write.
pub(crate) fn op(name: &str, category: Option<Category>) -> Option<&'static OpSpec> {
    match category {
        Some(c) => ops::find(c, name),
        None => ops::all().find(|o| o.name == name && o.category != Category::Engine),
    }
}

/// The distributions a searched field may be set to.
pub(crate) const DISTRIBUTIONS: &[(&str, &str)] = &[
    ("log_uniform", "`log_uniform(a, b)`: searched, uniform in log space between a and b"),
    ("uniform", "`uniform(a, b)`: searched, uniform between a and b"),
    ("int_uniform", "`int_uniform(a, b)`: searched, an integer between a and b inclusive"),
    ("choice", "`choice([x, y, …])`: searched, one of the values"),
];

/// An op's one-line summary: `an unlearning method, version 1`.
pub(crate) fn op_detail(op: &OpSpec) -> String {
    format!("{}, version {}", op.category.describe(), op.version)
}

/// An op described in Markdown: what it is, its fields with their defaults, its quirks.
pub(crate) fn op_doc(op: &'static OpSpec) -> String {
    let mut out = format!("**{}** — {}\n\n{}\n", op.name, op_detail(op), op.doc.replace('\n', " "));
    if !op.fields.is_empty() {
        out.push_str("\nfields:\n");
        for f in op.fields {
            let described = field(f, false);
            let _ = writeln!(out, "- `{}` — {}: {}", f.name, described.detail, f.doc);
        }
    }
    for quirk in op.quirks {
        let _ = write!(out, "\nquirk: {quirk}\n");
    }
    out
}

/// A field described in Markdown, for a hover.
pub(crate) fn field_doc(f: &Field) -> String {
    format!("**{}** — {}\n\n{}", f.name, f.detail, f.doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlearn_block_has_its_method_fields_and_tune() {
        let finetune = op("finetune", Some(Category::Method));
        let fields = block_fields(DeclKind::Unlearn, finetune);
        let lr = fields.iter().find(|f| f.name == "lr").expect("finetune has `lr`");
        assert_eq!(lr.detail, "a number, default `0.1`");
        assert!(lr.doc.starts_with("SGD learning rate"), "{}", lr.doc);
        assert!(lr.doc.contains("log_uniform"), "{}", lr.doc);
        assert_eq!(lr.expect, Expect::Searchable);
        assert!(fields.iter().any(|f| f.name == "tune" && f.expect == Expect::Ops(Category::Search)));
    }

    #[test]
    fn a_train_block_takes_the_train_ops_fields() {
        let fields = block_fields(DeclKind::Train, None);
        let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
        assert_eq!(names, ["model", "data", "epochs", "batch", "optim", "sched", "augment"]);
        assert_eq!(fields[4].expect, Expect::Ops(Category::Optim));
        assert_eq!(fields[1].expect, Expect::Subsets);
        assert!(fields[4].detail.contains("sgd(lr: 0.1"), "{}", fields[4].detail);
    }

    #[test]
    fn op_docs_list_fields_with_defaults() {
        let sgd = op("sgd", None).unwrap();
        let doc = op_doc(sgd);
        assert!(doc.starts_with("**sgd** — an optimiser, version 1"), "{doc}");
        assert!(doc.contains("- `momentum` — a number, default `0.9`: momentum"), "{doc}");
        assert!(op("measure", None).is_none(), "engine steps are never written");
    }
}
