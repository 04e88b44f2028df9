//! The lowering context: the declaration table, name resolution, inheritance and the
//! references shared by every declaration kind.

use std::collections::HashMap;

use crate::diag::did_you_mean;
use crate::span::Span;
use crate::syntax::ast::{Decl, DeclKind, Expr, ExprKind, Field, File, Item};

use super::{value, LowerError};

/// Subsets every dataset exposes.
const SUBSETS: &[&str] = &["train", "retain", "forget", "val", "test"];

/// Lowering state: the declaration table and the errors found so far.
pub(super) struct Cx<'a> {
    decls: Vec<&'a Decl>,
    /// Name → declaration, excluding reports (which may share an evaluation's name).
    names: HashMap<&'a str, &'a Decl>,
    pub(super) errors: Vec<LowerError>,
}

impl<'a> Cx<'a> {
    /// Indexes the file's declarations by name, reporting names declared twice.
    pub(super) fn new(file: &'a File) -> Cx<'a> {
        let mut cx = Cx { decls: vec![], names: HashMap::new(), errors: vec![] };
        let mut reports: HashMap<&str, Span> = HashMap::new();
        for item in &file.items {
            let Item::Decl(decl) = item else { continue };
            cx.decls.push(decl);
            let first = if decl.kind == DeclKind::Report {
                reports.insert(&decl.name.name, decl.name.span)
            } else {
                cx.names.insert(&decl.name.name, decl).map(|d| d.name.span)
            };
            if let Some(first) = first {
                cx.errors.push(LowerError::DuplicateName { name: decl.name.name.clone(), span: decl.name.span, first });
            }
        }
        cx
    }

    /// The declarations of one kind in file order; of a name declared twice, the first.
    pub(super) fn of_kind(&self, kind: DeclKind) -> Vec<&'a Decl> {
        let mut seen = std::collections::HashSet::new();
        self.decls.iter().copied().filter(|d| d.kind == kind && seen.insert(d.name.name.as_str())).collect()
    }

    /// Looks a name up, expecting one of `kinds`.
    pub(super) fn resolve(&mut self, name: &str, span: Span, kinds: &[DeclKind], wanted: &str) -> Option<&'a Decl> {
        match self.names.get(name) {
            Some(d) if kinds.contains(&d.kind) => Some(*d),
            Some(d) => {
                self.errors.push(LowerError::WrongKind {
                    name: name.into(),
                    found: format!("`{}` declaration", d.kind.keyword()),
                    wanted: wanted.into(),
                    span,
                    decl: d.name.span,
                });
                None
            }
            None => {
                let candidates: Vec<&str> =
                    self.decls.iter().filter(|d| kinds.contains(&d.kind)).map(|d| d.name.name.as_str()).collect();
                self.errors.push(LowerError::UnknownName {
                    name: name.into(),
                    span,
                    wanted: wanted.into(),
                    help: did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?")),
                });
                None
            }
        }
    }

    /// The head that is not a parent, and the fields after inheritance (a child's field
    /// replaces its parent's of the same name).
    pub(super) fn effective(&mut self, decl: &'a Decl) -> Option<(Option<&'a Expr>, Vec<&'a Field>)> {
        let mut chain: Vec<&'a Decl> = vec![decl];
        let mut head = decl.head.as_ref();
        while let Some(Expr { kind: ExprKind::Path(parts), span }) = head {
            if parts.len() != 1 {
                break;
            }
            let parent =
                self.resolve(&parts[0].name, *span, &[decl.kind], &format!("`{}` declaration", decl.kind.keyword()))?;
            if let Some(pos) = chain.iter().position(|d| std::ptr::eq(*d, parent)) {
                let cycle = &chain[pos..];
                // Every member of a cycle finds it; report it once, from its first member.
                let first = cycle.iter().min_by_key(|d| d.name.span.start).expect("a cycle has members");
                if !std::ptr::eq(*first, decl) {
                    return None;
                }
                let mut names: Vec<&str> = cycle.iter().map(|d| d.name.name.as_str()).collect();
                names.push(&parent.name.name);
                let edges = cycle
                    .iter()
                    .filter_map(|d| d.head.as_ref())
                    .map(|h| miette::LabeledSpan::new_with_span(Some("inherits".into()), h.span))
                    .collect();
                self.errors.push(LowerError::InheritanceCycle {
                    name: decl.name.name.clone(),
                    chain: names.join(" → "),
                    span: *span,
                    edges,
                });
                return None;
            }
            chain.push(parent);
            head = parent.head.as_ref();
        }
        let mut fields: Vec<&'a Field> = vec![];
        for d in chain.iter().rev() {
            let mut own: HashMap<&str, Span> = HashMap::new();
            for f in &d.fields {
                if let Some(first) = own.insert(&f.name.name, f.name.span) {
                    if std::ptr::eq(*d, decl) {
                        self.errors.push(LowerError::DuplicateField {
                            field: f.name.name.clone(),
                            span: f.name.span,
                            first,
                        });
                    }
                    continue;
                }
                fields.retain(|g| g.name.name != f.name.name);
                fields.push(f);
            }
        }
        Some((head, fields))
    }

    /// Reports a field that `context` does not have, suggesting one of `known`.
    pub(super) fn unknown_field(&mut self, f: &Field, context: &str, known: &[&str]) {
        self.errors.push(LowerError::UnknownField {
            field: f.name.name.clone(),
            context: context.into(),
            span: f.name.span,
            help: did_you_mean(&f.name.name, known.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(format!("fields: {}", known.join(", ")))),
        });
    }

    /// A single-name reference to a declaration of one of `kinds`; returns its index in `pool`.
    pub(super) fn decl_ref(&mut self, e: &Expr, kinds: &[DeclKind], wanted: &str, pool: &[&Decl]) -> Option<usize> {
        let ExprKind::Path(parts) = &e.kind else {
            self.errors.push(LowerError::WrongType {
                field: wanted.into(),
                expected: format!("the name of a {wanted}"),
                span: e.span,
                found: value::describe(e),
                help: None,
            });
            return None;
        };
        if parts.len() != 1 {
            self.errors.push(LowerError::WrongType {
                field: value::join_path(parts),
                expected: format!("the name of a {wanted}"),
                span: e.span,
                found: value::describe(e),
                help: None,
            });
            return None;
        }
        let decl = self.resolve(&parts[0].name, e.span, kinds, wanted)?;
        pool.iter().position(|d| std::ptr::eq(*d, decl))
    }

    /// `dataset.subset`
    pub(super) fn subset(&mut self, e: &Expr, datasets: &[&Decl]) -> Option<(usize, String)> {
        match &e.kind {
            ExprKind::Path(parts) if parts.len() == 2 => {
                let decl =
                    self.resolve(&parts[0].name, parts[0].span, &[DeclKind::Dataset], "`dataset` declaration")?;
                let subset = &parts[1].name;
                if !SUBSETS.contains(&subset.as_str()) {
                    self.errors.push(LowerError::UnknownField {
                        field: subset.clone(),
                        context: format!("dataset `{}`", parts[0].name),
                        span: parts[1].span,
                        help: did_you_mean(subset, SUBSETS.iter().copied())
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| Some(format!("subsets: {}", SUBSETS.join(", ")))),
                    });
                    return None;
                }
                Some((datasets.iter().position(|d| std::ptr::eq(*d, decl))?, subset.clone()))
            }
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: "data".into(),
                    expected: "`<dataset>.<subset>`, e.g. `mnist.retain`".into(),
                    span: e.span,
                    found: value::describe(e),
                    help: None,
                });
                None
            }
        }
    }
}
