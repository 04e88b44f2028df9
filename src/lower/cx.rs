//! The lowering context: the declaration table, name resolution, inheritance and the
//! references shared by every declaration kind.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::did_you_mean;
use crate::span::Span;
use crate::syntax::ast::{Decl, DeclKind, Expr, ExprKind, Field, File, Item};

use super::dims::Dims;
use super::python::PythonFiles;
use super::{value, LowerError};

/// Subsets every dataset exposes.
const SUBSETS: &[&str] = &["train", "retain", "forget", "val", "test"];

/// A declaration after inheritance: the head that is not a parent, and the fields (a child's
/// field replaces its parent's of the same name). `None` where the chain is broken (an unknown
/// parent, a cycle), which has been reported.
type Effective<'a> = Option<(Option<&'a Expr>, Vec<&'a Field>)>;

/// Lowering state: the declaration table and the errors found so far.
pub(super) struct Cx<'a> {
    decls: Vec<&'a Decl>,
    /// Name → declaration, excluding reports (which may share an evaluation's name).
    names: HashMap<&'a str, &'a Decl>,
    /// Each declaration's place among those of its kind (`of_kind`'s order).
    positions: HashMap<*const Decl, usize>,
    /// Inheritance resolved so far, by declaration: each is resolved once, so a chain of n
    /// declarations costs O(n), not O(n²).
    resolved: HashMap<*const Decl, Effective<'a>>,
    /// Where `seeds = …` is set, for diagnostics about the plan's size.
    pub(super) seeds_span: Option<Span>,
    /// The file's dimensions; fields that take values from one mark it used.
    pub(super) dims: Dims,
    /// Import alias → what `alias.NAME` can name.
    imports: HashMap<String, ImportNames>,
    /// Aliases of imports that failed: their names are not checked.
    broken: Vec<String>,
    pub(super) errors: Vec<LowerError>,
    /// The Python files the file's `python("…")` ops name, read once.
    pub(super) python: PythonFiles,
    /// Where data paths resolve: the data root for relative paths, the file's folder for `./…`.
    pub(super) data_root: PathBuf,
    pub(super) base_dir: PathBuf,
}

/// The names an imported file exposes to the file importing it.
struct ImportNames {
    /// Index into `Experiment::imports`.
    index: usize,
    /// The path as written in the `import` line.
    path: String,
    /// Its `evaluate` declarations, in order (their index is their position).
    evaluates: Vec<String>,
    /// Its other declarations' names with their kind's keyword.
    others: HashMap<String, &'static str>,
}

impl ImportNames {
    fn of(index: usize, import: &super::Imported) -> ImportNames {
        let e = &import.experiment;
        let mut others = HashMap::new();
        let kinds: [(&'static str, Vec<&String>); 5] = [
            ("dataset", e.datasets.iter().map(|d| &d.name).collect()),
            ("model", e.models.iter().map(|d| &d.name).collect()),
            ("train", e.trains.iter().map(|d| &d.name).collect()),
            ("unlearn", e.unlearns.iter().map(|d| &d.name).collect()),
            ("report", e.reports.iter().map(|d| &d.name).collect()),
        ];
        for (kind, names) in kinds {
            for name in names {
                others.entry(name.clone()).or_insert(kind);
            }
        }
        ImportNames {
            index,
            path: import.path.clone(),
            evaluates: e.evaluates.iter().map(|d| d.name.clone()).collect(),
            others,
        }
    }
}

impl<'a> Cx<'a> {
    /// Indexes the file's declarations and imports by name, reporting names declared twice.
    pub(super) fn new(
        file: &'a File,
        imports: &[super::Imported],
        broken: &[String],
        base_dir: &Path,
        data_root: &Path,
    ) -> Cx<'a> {
        let mut cx = Cx {
            decls: vec![],
            names: HashMap::new(),
            positions: HashMap::new(),
            resolved: HashMap::new(),
            seeds_span: None,
            dims: Dims::default(),
            imports: HashMap::new(),
            broken: broken.to_vec(),
            errors: vec![],
            python: PythonFiles::read(&[], base_dir),
            data_root: data_root.to_path_buf(),
            base_dir: base_dir.to_path_buf(),
        };
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
        // An alias is a name like a declaration's: `mr.bench` and `mnist.retain` must not meet.
        let mut aliases: HashMap<&str, Span> = HashMap::new();
        for item in &file.items {
            let Item::Import(import) = item else { continue };
            let alias = &import.alias;
            let first = aliases
                .insert(&alias.name, alias.span)
                .or_else(|| cx.names.get(alias.name.as_str()).map(|d| d.name.span));
            if let Some(first) = first {
                cx.errors.push(LowerError::DuplicateName { name: alias.name.clone(), span: alias.span, first });
            }
        }
        for (i, import) in imports.iter().enumerate() {
            cx.imports.entry(import.alias.clone()).or_insert_with(|| ImportNames::of(i, import));
        }
        for kind in DeclKind::ALL {
            for (i, d) in cx.of_kind(kind).into_iter().enumerate() {
                cx.positions.insert(d, i);
            }
        }
        cx.python = PythonFiles::read(&cx.decls, base_dir);
        cx
    }

    /// Types `expr` as the value of `field` (see `value::value`), a dimension's values included.
    pub(super) fn typed(&mut self, field: &str, ty: crate::ops::Ty, expr: &Expr) -> Option<crate::ops::Value> {
        value::value(field, ty, expr, &mut self.errors, &mut self.dims)
    }

    /// Resolves `name(args…)` as an op of `category` with every default filled (see
    /// `value::call`).
    pub(super) fn call(
        &mut self,
        category: crate::ops::Category,
        name: &str,
        span: Span,
        args: &[crate::syntax::ast::Arg],
    ) -> Option<crate::ops::Call> {
        value::call(category, name, span, args, &mut self.errors, &mut self.dims)
    }

    /// The declarations of one kind in file order; of a name declared twice, the first.
    pub(super) fn of_kind(&self, kind: DeclKind) -> Vec<&'a Decl> {
        let mut seen = std::collections::HashSet::new();
        self.decls.iter().copied().filter(|d| d.kind == kind && seen.insert(d.name.name.as_str())).collect()
    }

    /// The place of `decl` among the declarations of its kind (an index into `of_kind`).
    pub(super) fn position(&self, decl: &Decl) -> Option<usize> {
        self.positions.get(&(decl as *const Decl)).copied()
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
    ///
    /// Iterative, and each declaration is resolved once: walking up stops at the first ancestor
    /// already resolved, and the declarations walked are resolved on the way back down from
    /// their parent's fields. A chain of any depth costs time linear in its length and no stack.
    pub(super) fn effective(&mut self, decl: &'a Decl) -> Effective<'a> {
        if let Some(done) = self.resolved.get(&(decl as *const Decl)) {
            return done.clone();
        }
        // Walk up to a resolved ancestor, or to the root (a declaration without a parent).
        let mut chain: Vec<&'a Decl> = vec![decl];
        let mut on_chain: HashMap<*const Decl, usize> = HashMap::from([(decl as *const Decl, 0)]);
        let mut last = decl;
        let base: Effective<'a> = loop {
            let parent = match &last.head {
                Some(Expr { kind: ExprKind::Path(parts), span }) if parts.len() == 1 => {
                    let wanted = format!("`{}` declaration", last.kind.keyword());
                    match self.resolve(&parts[0].name, *span, &[last.kind], &wanted) {
                        Some(parent) => parent,
                        None => break None,
                    }
                }
                // The root: its head (a constructor, or none) is every descendant's.
                head => break Some((head.as_ref(), vec![])),
            };
            if let Some(done) = self.resolved.get(&(parent as *const Decl)) {
                break done.clone();
            }
            if let Some(&pos) = on_chain.get(&(parent as *const Decl)) {
                self.inheritance_cycle(&chain[pos..]);
                break None;
            }
            on_chain.insert(parent, chain.len());
            chain.push(parent);
            last = parent;
        };
        // Resolve from the top of the chain down: each declaration's fields are its parent's
        // with its own on top.
        let mut inherited = base;
        for d in chain.iter().rev() {
            inherited = inherited.map(|(head, fields)| (head, self.own_fields(d, fields)));
            self.resolved.insert(*d, inherited.clone());
        }
        inherited
    }

    /// `inherited` with the fields of `d` on top; a field `d` sets twice is reported.
    fn own_fields(&mut self, d: &'a Decl, mut inherited: Vec<&'a Field>) -> Vec<&'a Field> {
        let mut own: HashMap<&str, Span> = HashMap::new();
        for f in &d.fields {
            if let Some(first) = own.insert(&f.name.name, f.name.span) {
                self.errors.push(LowerError::DuplicateField { field: f.name.name.clone(), span: f.name.span, first });
                continue;
            }
            inherited.retain(|g| g.name.name != f.name.name);
            inherited.push(f);
        }
        inherited
    }

    /// Reports an inheritance cycle once, as seen from its first member in the file: `cycle`
    /// lists its members, each inheriting from the next and the last from the first.
    fn inheritance_cycle(&mut self, cycle: &[&'a Decl]) {
        let first = (0..cycle.len()).min_by_key(|&i| cycle[i].name.span.start).unwrap_or(0);
        let from_first: Vec<&Decl> = cycle[first..].iter().chain(&cycle[..first]).copied().collect();
        let mut names: Vec<&str> = from_first.iter().map(|d| d.name.name.as_str()).collect();
        names.push(&from_first[0].name.name);
        let edges = from_first
            .iter()
            .filter_map(|d| d.head.as_ref())
            .map(|h| miette::LabeledSpan::new_with_span(Some("inherits".into()), h.span))
            .collect();
        // The edge that closes the cycle is the last member's, back to the first.
        let closing = from_first[from_first.len() - 1].head.as_ref().map_or(from_first[0].name.span, |h| h.span);
        self.errors.push(LowerError::InheritanceCycle {
            name: from_first[0].name.name.clone(),
            chain: names.join(" → "),
            span: closing,
            edges,
        });
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

    /// A single-name reference to a declaration of `kind`; returns its place among those of its
    /// kind.
    pub(super) fn decl_index(&mut self, e: &Expr, kind: DeclKind, wanted: &str) -> Option<usize> {
        let decl = self.decl_ref(e, &[kind], wanted)?;
        self.position(decl)
    }

    /// A single-name reference to a declaration of one of `kinds`.
    pub(super) fn decl_ref(&mut self, e: &Expr, kinds: &[DeclKind], wanted: &str) -> Option<&'a Decl> {
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
        self.resolve(&parts[0].name, e.span, kinds, wanted)
    }

    /// The place of the `evaluate` declaration called `name` among the evaluations, if any.
    /// An evaluation a report names: `bench` (this file's) or `mr.bench` (imported as `mr`).
    pub(super) fn evaluation(&mut self, e: &Expr) -> Option<super::EvalRef> {
        let ExprKind::Path(parts) = &e.kind else {
            // Not a name: `decl_index` reports what was expected instead.
            self.decl_index(e, DeclKind::Evaluate, "`evaluate` declaration");
            return None;
        };
        let [alias, name] = parts.as_slice() else {
            let index = self.decl_index(e, DeclKind::Evaluate, "`evaluate` declaration")?;
            return Some(super::EvalRef { import: None, index, name: value::join_path(parts) });
        };
        let Some(import) = self.imports.get(&alias.name) else {
            if self.broken.contains(&alias.name) {
                return None;
            }
            let help = did_you_mean(&alias.name, self.imports.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| {
                    Some("name another file's evaluation as `alias.NAME` after `import \"file.munl\" as alias`".into())
                });
            self.errors.push(LowerError::UnknownName {
                name: alias.name.clone(),
                span: alias.span,
                wanted: "import".into(),
                help,
            });
            return None;
        };
        if let Some(index) = import.evaluates.iter().position(|n| *n == name.name) {
            return Some(super::EvalRef { import: Some(import.index), index, name: value::join_path(parts) });
        }
        let help = match import.others.get(&name.name) {
            Some(kind) => Some(format!("`{}` is a `{kind}` declaration there; a report names evaluations", name.name)),
            None => did_you_mean(&name.name, import.evaluates.iter().map(String::as_str))
                .map(|s| format!("did you mean `{}.{s}`?", alias.name))
                .or_else(|| Some(format!("its evaluations: {}", import.evaluates.join(", ")))),
        };
        self.errors.push(LowerError::UnknownName {
            name: name.name.clone(),
            span: name.span,
            wanted: format!("`evaluate` declaration in `{}`", import.path),
            help,
        });
        None
    }

    /// Whether a declaration of any kind but `report` is called `name`.
    pub(super) fn is_declared(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    pub(super) fn evaluate_named(&self, name: &str) -> Option<usize> {
        self.names.get(name).filter(|d| d.kind == DeclKind::Evaluate).and_then(|d| self.position(d))
    }

    /// `dataset.subset`
    pub(super) fn subset(&mut self, e: &Expr) -> Option<(usize, String)> {
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
                Some((self.position(decl)?, subset.clone()))
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::lower::{lower, Experiment, LowerError};
    use crate::ops::Value;
    use crate::source::Source;

    fn lowered(text: &str) -> Result<Experiment, Vec<LowerError>> {
        let source = Source::new("inherit.munl", text.to_string());
        let file = crate::syntax::parse(&source).expect("parses");
        lower(&file, Path::new("."), Path::new("/data"), 0, vec![], &[])
    }

    const HEAD: &str = "dataset d { source = synthetic(classes: 4, size: 64, shape: [3, 8, 8], seed: 1) }\n\
                        model m = cnn()\n";

    /// Regression (issue 11, item 4): each declaration re-walked its whole chain (with a linear
    /// cycle check per step), so a 10 000-level chain took over a minute to check. Resolved once
    /// per declaration, and iteratively, a 20 000-level chain checks in well under a second
    /// (release), and resolves as a short one would.
    #[test]
    fn a_deep_inheritance_chain_resolves_every_level() {
        const DEPTH: usize = 20_000;
        let mut text = format!("{HEAD}train t0 {{ model = m; data = d.train; epochs = 1; batch = 64 }}\n");
        for i in 1..DEPTH {
            // Every level overrides `epochs`; only the root sets `batch`, `model` and `data`.
            text.push_str(&format!("train t{i} = t{} {{ epochs = {} }}\n", i - 1, i % 97 + 1));
        }
        // Declared before its ancestors: order does not matter.
        text.push_str(&format!("train first = t{} {{ augment = none }}\n", DEPTH - 1));
        let exp = lowered(&text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(exp.trains.len(), DEPTH + 1);
        for (i, t) in exp.trains.iter().take(DEPTH).enumerate() {
            let epochs = if i == 0 { 1 } else { i % 97 + 1 } as i64;
            assert_eq!(t.params["epochs"], Value::Int(epochs), "{}", t.name);
            assert_eq!(t.params["batch"], Value::Int(64), "{}", t.name);
        }
        let last = &exp.trains[DEPTH];
        assert_eq!(last.params["epochs"], Value::Int(((DEPTH - 1) % 97 + 1) as i64));
        assert_eq!(last.params["augment"], Value::Str("none".into()));
        assert_eq!((last.model, last.dataset, last.subset.as_str()), (0, 0, "train"));
    }

    /// A cycle is reported once, from its first member in the file, whichever declaration's
    /// resolution runs into it; the declarations that inherit from it fail without a report.
    #[test]
    fn a_cycle_is_reported_once_from_its_first_member() {
        let text = format!("{HEAD}train tail = b {{ }}\ntrain a = c {{ }}\ntrain b = a {{ }}\ntrain c = b {{ }}\n");
        let errors = lowered(&text).expect_err("a cycle");
        let cycles: Vec<&LowerError> =
            errors.iter().filter(|e| matches!(e, LowerError::InheritanceCycle { .. })).collect();
        assert_eq!(cycles.len(), 1, "{errors:?}");
        let LowerError::InheritanceCycle { name, chain, edges, .. } = cycles[0] else { unreachable!() };
        assert_eq!((name.as_str(), chain.as_str()), ("a", "a → c → b → a"));
        assert_eq!(edges.len(), 3);
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    /// A problem of an inherited field is the parent's, reported once however many declarations
    /// inherit it.
    #[test]
    fn an_inherited_problem_is_reported_once() {
        let text = format!(
            "{HEAD}train t0 {{ model = m; data = d.train; epochs = 0; speed = 2 }}\n\
             train t1 = t0 {{ }}\ntrain t2 = t1 {{ batch = 8 }}\n"
        );
        let errors = lowered(&text).expect_err("bad fields");
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(matches!(&errors[0], LowerError::OutOfRange { field, .. } if field == "epochs"), "{errors:?}");
        assert!(matches!(&errors[1], LowerError::UnknownField { field, .. } if field == "speed"), "{errors:?}");
    }
}
