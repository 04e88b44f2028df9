//! Lowering: a parsed file becomes an `Experiment` — names resolved (in any order), inheritance
//! applied, every field checked against the catalogue and defaulted, seeds expanded.
//!
//! All problems of a file are collected; lowering fails if there is any.

mod error;
mod ir;
mod search;
mod value;

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path};

pub(crate) use error::LowerError;
pub(crate) use ir::{Dataset, Evaluate, Experiment, Model, ModelRef, Report, Search, Train, Unlearn};

use crate::diag::did_you_mean;
use crate::ops::{self, Category, Value};
use crate::span::Span;
use crate::syntax::ast::{Decl, DeclKind, Expr, ExprKind, Field, File, Item};

/// Subsets every dataset exposes.
pub(crate) const SUBSETS: &[&str] = &["train", "retain", "forget", "val", "test"];
/// Report formats and their file kinds.
pub(crate) const FORMATS: &[&str] = &["markdown", "csv", "json", "latex", "plot"];

/// Lowers a parsed file; `base_dir` is the folder of the `.munl` file.
pub(crate) fn lower(file: &File, base_dir: &Path) -> Result<Experiment, Vec<LowerError>> {
    let mut cx = Cx::new(file);
    let mut exp = Experiment {
        seeds: vec![0],
        device: "auto".into(),
        base_dir: base_dir.to_path_buf(),
        datasets: vec![],
        models: vec![],
        trains: vec![],
        unlearns: vec![],
        evaluates: vec![],
        reports: vec![],
    };
    cx.settings(file, &mut exp);
    // Index per kind first, so references resolve regardless of declaration order.
    let datasets: Vec<&Decl> = cx.of_kind(DeclKind::Dataset);
    let models: Vec<&Decl> = cx.of_kind(DeclKind::Model);
    let trains: Vec<&Decl> = cx.of_kind(DeclKind::Train);
    let unlearns: Vec<&Decl> = cx.of_kind(DeclKind::Unlearn);
    let evaluates: Vec<&Decl> = cx.of_kind(DeclKind::Evaluate);
    let reports: Vec<&Decl> = cx.of_kind(DeclKind::Report);
    for d in &datasets {
        if let Some(x) = cx.dataset(d) {
            exp.datasets.push(x);
        }
    }
    for d in &models {
        if let Some(x) = cx.model(d) {
            exp.models.push(x);
        }
    }
    for d in &trains {
        if let Some(x) = cx.train(d, &datasets, &models) {
            exp.trains.push(x);
        }
    }
    for d in &unlearns {
        if let Some(x) = cx.unlearn(d, &trains, &exp.trains) {
            exp.unlearns.push(x);
        }
    }
    for d in &evaluates {
        if let Some(x) = cx.evaluate(d, &trains, &unlearns) {
            exp.evaluates.push(x);
        }
    }
    for d in &reports {
        if let Some(x) = cx.report(d, &evaluates) {
            exp.reports.push(x);
        }
    }
    if cx.errors.is_empty() {
        Ok(exp)
    } else {
        Err(cx.errors)
    }
}

/// Lowering state: the declaration table and the errors found so far.
struct Cx<'a> {
    decls: Vec<&'a Decl>,
    /// Name → declaration, excluding reports (which may share an evaluation's name).
    names: HashMap<&'a str, &'a Decl>,
    errors: Vec<LowerError>,
}

impl<'a> Cx<'a> {
    fn new(file: &'a File) -> Cx<'a> {
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

    fn of_kind(&self, kind: DeclKind) -> Vec<&'a Decl> {
        let mut seen = std::collections::HashSet::new();
        self.decls.iter().copied().filter(|d| d.kind == kind && seen.insert(d.name.name.as_str())).collect()
    }

    fn settings(&mut self, file: &File, exp: &mut Experiment) {
        for item in &file.items {
            let Item::Setting(s) = item else { continue };
            match s.name.name.as_str() {
                "seeds" => {
                    if let Some(seeds) = self.seeds(&s.value) {
                        exp.seeds = seeds;
                    }
                }
                "device" => match &s.value.kind {
                    ExprKind::Path(p) if p.len() == 1 && ["auto", "cpu", "cuda"].contains(&p[0].name.as_str()) => {
                        exp.device = p[0].name.clone()
                    }
                    ExprKind::Str(d) if d == "cpu" || d == "auto" || d.starts_with("cuda") => exp.device = d.clone(),
                    _ => self.errors.push(LowerError::WrongType {
                        field: "device".into(),
                        expected: "`auto`, `cpu`, `cuda` or \"cuda:N\"".into(),
                        span: s.value.span,
                        found: value::describe(&s.value),
                        help: None,
                    }),
                },
                other => self.errors.push(LowerError::UnknownSetting {
                    name: other.into(),
                    span: s.name.span,
                    help: did_you_mean(other, ["seeds", "device"]).map(|s| format!("did you mean `{s}`?")),
                }),
            }
        }
    }

    fn seeds(&mut self, e: &Expr) -> Option<Vec<u64>> {
        let bad = |cx: &mut Cx, message: &str| {
            cx.errors.push(LowerError::OutOfRange { field: "seeds".into(), message: message.into(), span: e.span });
            None
        };
        let seeds: Vec<i64> = match &e.kind {
            ExprKind::Range { start, end } => (*start..*end).collect(),
            ExprKind::Int(i) => vec![*i],
            ExprKind::List(items) => {
                let mut out = vec![];
                for item in items {
                    match item.kind {
                        ExprKind::Int(i) => out.push(i),
                        _ => return bad(self, "seeds are integers"),
                    }
                }
                out
            }
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: "seeds".into(),
                    expected: "a range such as `0..3`, an integer or a list of integers".into(),
                    span: e.span,
                    found: value::describe(e),
                    help: None,
                });
                return None;
            }
        };
        if seeds.is_empty() {
            return bad(self, "at least one seed is needed");
        }
        if seeds.iter().any(|s| *s < 0) {
            return bad(self, "seeds are not negative");
        }
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != seeds.len() {
            return bad(self, "a seed appears twice");
        }
        Some(seeds.into_iter().map(|s| s as u64).collect())
    }

    /// Looks a name up, expecting one of `kinds`.
    fn resolve(&mut self, name: &str, span: Span, kinds: &[DeclKind], wanted: &str) -> Option<&'a Decl> {
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
    fn effective(&mut self, decl: &'a Decl) -> Option<(Option<&'a Expr>, Vec<&'a Field>)> {
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

    fn unknown_field(&mut self, f: &Field, context: &str, known: &[&str]) {
        self.errors.push(LowerError::UnknownField {
            field: f.name.name.clone(),
            context: context.into(),
            span: f.name.span,
            help: did_you_mean(&f.name.name, known.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(format!("fields: {}", known.join(", ")))),
        });
    }

    fn dataset(&mut self, d: &'a Decl) -> Option<Dataset> {
        let (head, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut source =
            head.and_then(|h| value::value("source", ops::Ty::Call(Category::Source), h, &mut self.errors));
        let mut split = None;
        let mut limit = None;
        for f in &fields {
            match f.name.name.as_str() {
                "source" => {
                    source = value::value("source", ops::Ty::Call(Category::Source), &f.value, &mut self.errors)
                }
                "split" => split = value::value("split", ops::Ty::Call(Category::Split), &f.value, &mut self.errors),
                "limit" => limit = value::value("limit", ops::Ty::Int { min: 6 }, &f.value, &mut self.errors),
                _ => self.unknown_field(f, "a dataset", &["source", "split", "limit"]),
            }
        }
        if source.is_none() && self.errors.len() == before {
            self.errors.push(LowerError::MissingField {
                field: "source".into(),
                context: format!("dataset `{}`", d.name.name),
                span: d.name.span,
                help: Some("e.g. `source = mnist(\"mnist\")`".into()),
            });
        }
        let source = source?.as_call()?.clone();
        let split = match split {
            Some(s) => s.as_call()?.clone(),
            None => ops::Default::Call("random").value()?.as_call()?.clone(),
        };
        let classes = match source.op.as_str() {
            "synthetic" => source.args.get("classes").and_then(Value::as_i64)?,
            "cifar100" => 100,
            "utkface" => 5,
            "image_folder" => source.args.get("classes").and_then(Value::as_i64)?,
            _ => 10,
        };
        (self.errors.len() == before).then(|| Dataset {
            name: d.name.name.clone(),
            span: d.name.span,
            source,
            split,
            limit: limit.and_then(|l| l.as_i64()),
            classes,
        })
    }

    fn model(&mut self, d: &'a Decl) -> Option<Model> {
        let (head, fields) = self.effective(d)?;
        let Some(head) = head else {
            self.errors.push(LowerError::MissingField {
                field: "architecture".into(),
                context: format!("model `{}`", d.name.name),
                span: d.name.span,
                help: Some("e.g. `model net = resnet18()`".into()),
            });
            return None;
        };
        let (name, name_span, mut args) = match &head.kind {
            ExprKind::Call { callee, args } => (callee.name.clone(), callee.span, args.clone()),
            ExprKind::Path(p) if p.len() == 1 => (p[0].name.clone(), p[0].span, vec![]),
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: d.name.name.clone(),
                    expected: "a model architecture".into(),
                    span: head.span,
                    found: value::describe(head),
                    help: Some("e.g. `resnet18()`, `cnn()`".into()),
                });
                return None;
            }
        };
        // Block fields are architecture arguments too: `model m = cnn() { width = 16 }`.
        for f in fields {
            args.retain(|a| a.name.as_ref().map(|n| &n.name) != Some(&f.name.name));
            args.push(crate::syntax::ast::Arg { name: Some(f.name.clone()), value: f.value.clone(), span: f.span });
        }
        let arch = value::call(Category::Arch, &name, name_span, &args, &mut self.errors)?;
        // TinyViT halves the resolution five times (models.md §2): the reference only builds
        // it for multiples of 32.
        if let Some(size) = arch.args.get("img_size").and_then(Value::as_i64).filter(|s| s % 32 != 0) {
            let span = args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == "img_size"))
                .map_or(name_span, |a| a.span);
            self.errors.push(LowerError::OutOfRange {
                field: "img_size".into(),
                message: format!("{size} is not a multiple of 32"),
                span,
            });
            return None;
        }
        Some(Model { name: d.name.name.clone(), span: d.name.span, arch })
    }

    fn train(&mut self, d: &'a Decl, datasets: &[&Decl], models: &[&Decl]) -> Option<Train> {
        let (head, fields) = self.effective(d)?;
        let spec = ops::find(Category::Train, "train").expect("train is in the catalogue");
        let before = self.errors.len();
        if let Some(h) = head {
            self.errors.push(LowerError::WrongType {
                field: d.name.name.clone(),
                expected: "a parent `train` declaration".into(),
                span: h.span,
                found: value::describe(h),
                help: Some("write `train retrained = original { … }` or give the fields in a block".into()),
            });
        }
        let (mut model, mut data) = (None, None);
        let mut params = BTreeMap::new();
        let known: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
        for f in &fields {
            match f.name.name.as_str() {
                "model" => model = self.decl_ref(&f.value, &[DeclKind::Model], "`model` declaration", models),
                "data" => data = self.subset(&f.value, datasets),
                name => match spec.field(name) {
                    Some(fs) => {
                        if let Some(v) = value::value(name, fs.ty, &f.value, &mut self.errors) {
                            params.insert(name.to_string(), v);
                        }
                    }
                    None => self.unknown_field(f, "`train`", &known),
                },
            }
        }
        for fs in spec.fields {
            if !params.contains_key(fs.name) {
                if let Some(v) = fs.default.value() {
                    params.insert(fs.name.to_string(), v);
                }
            }
        }
        for (field, present) in [("model", model.is_some()), ("data", data.is_some())] {
            if !present && !fields.iter().any(|f| f.name.name == field) {
                self.errors.push(LowerError::MissingField {
                    field: field.into(),
                    context: format!("train `{}`", d.name.name),
                    span: d.name.span,
                    help: spec.field(field).map(|f| f.doc.to_string()),
                });
            }
        }
        let ((dataset, subset), model) = (data?, model?);
        (self.errors.len() == before).then(|| Train {
            name: d.name.name.clone(),
            span: d.name.span,
            model,
            dataset,
            subset,
            params,
        })
    }

    /// A single-name reference to a declaration of one of `kinds`; returns its index in `pool`.
    fn decl_ref(&mut self, e: &Expr, kinds: &[DeclKind], wanted: &str, pool: &[&Decl]) -> Option<usize> {
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
    fn subset(&mut self, e: &Expr, datasets: &[&Decl]) -> Option<(usize, String)> {
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

    fn unlearn(&mut self, d: &'a Decl, trains: &[&Decl], lowered: &[Train]) -> Option<Unlearn> {
        let (head, fields) = self.effective(d)?;
        let Some(Expr { kind: ExprKind::Call { callee, args }, span }) = head else {
            self.errors.push(LowerError::MissingField {
                field: "method".into(),
                context: format!("unlearn `{}`", d.name.name),
                span: head.map_or(d.name.span, |h| h.span),
                help: Some("e.g. `unlearn ft = finetune(original)`".into()),
            });
            return None;
        };
        let Some(spec) = ops::find(Category::Method, &callee.name) else {
            // Reuse the unknown-op diagnostic with its suggestions.
            value::call(Category::Method, &callee.name, callee.span, &[], &mut self.errors);
            return None;
        };
        let from = match args.as_slice() {
            [arg] if arg.name.is_none() => self.decl_ref(&arg.value, &[DeclKind::Train], "`train` declaration", trains),
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: callee.name.clone(),
                    expected: "one argument: the `train` declaration to unlearn from".into(),
                    span: *span,
                    found: format!("{} argument(s)", args.len()),
                    help: Some(format!("e.g. `{}(original)`", callee.name)),
                });
                None
            }
        };
        // `tune = search(…)` and distributions are taken apart from the fixed fields.
        let mut tune = None;
        let mut written = vec![];
        let mut block: Vec<crate::syntax::ast::Arg> = vec![];
        let before = self.errors.len();
        for f in &fields {
            if f.name.name == "tune" {
                tune = Some(f);
                continue;
            }
            if value::is_distribution(&f.value) {
                match spec.field(&f.name.name).filter(|fs| search::searchable(fs)) {
                    Some(fs) => {
                        if let Some(dist) = search::written(fs, &f.value, &mut self.errors) {
                            written.push((f.name.name.clone(), dist));
                        }
                    }
                    None => self.errors.push(LowerError::WrongType {
                        field: f.name.name.clone(),
                        expected: format!("a field of `{}` that takes a number", spec.name),
                        span: f.value.span,
                        found: "a searched value".into(),
                        help: None,
                    }),
                }
                continue;
            }
            block.push(crate::syntax::ast::Arg { name: Some(f.name.clone()), value: f.value.clone(), span: f.span });
        }
        let params = value::call(Category::Method, spec.name, callee.span, &block, &mut self.errors);
        let search = match tune {
            None if !written.is_empty() => {
                self.errors.push(LowerError::MissingField {
                    field: "tune".into(),
                    context: format!("unlearn `{}`", d.name.name),
                    span: d.name.span,
                    help: Some("searched fields need `tune = search(trials: 100, seeds: [0, 1, 2])`".into()),
                });
                None
            }
            None => None,
            Some(t) => {
                let call = value::value("tune", ops::Ty::Call(Category::Search), &t.value, &mut self.errors)
                    .and_then(|v| v.as_call().cloned());
                let from = from.and_then(|i| lowered.get(i));
                match (call, from) {
                    (Some(call), Some(original)) => {
                        let e_max =
                            search::epoch_cap(original.params.get("epochs").and_then(Value::as_i64).unwrap_or(50));
                        // The method's field order is the order the reference suggests them in.
                        let mut space: Vec<(String, ir::Dist)> = if written.is_empty() {
                            let fixed: Vec<&str> =
                                block.iter().filter_map(|a| a.name.as_ref()).map(|n| n.name.as_str()).collect();
                            search::reference_space(spec, &fixed, e_max)
                        } else {
                            written
                        };
                        space.sort_by_key(|(n, _)| spec.fields.iter().position(|f| f.name == n));
                        let reference = self.retrain_of(original, lowered, t.value.span);
                        reference.map(|reference| ir::Search { call, space, reference })
                    }
                    _ => None,
                }
            }
        };
        if self.errors.len() > before {
            return None;
        }
        Some(Unlearn {
            name: d.name.name.clone(),
            span: d.name.span,
            method: spec.name.into(),
            from: from?,
            params: params?.args,
            search,
        })
    }

    /// The Retrain model a search compares with: the one `train` declaration on the same model
    /// and dataset as `original` that trains on the retain set.
    fn retrain_of(&mut self, original: &Train, lowered: &[Train], span: Span) -> Option<usize> {
        let found: Vec<usize> = (0..lowered.len())
            .filter(|&i| {
                let t = &lowered[i];
                t.model == original.model && t.dataset == original.dataset && t.subset == "retain"
            })
            .collect();
        match found.as_slice() {
            [one] => Some(*one),
            _ => {
                self.errors.push(LowerError::MissingField {
                    field: "a Retrain model".into(),
                    context: format!("the search of a method on `{}`", original.name),
                    span,
                    help: Some(format!(
                        "the search scores trials against the Retrain model: declare exactly one `train` on the same model with `data = <dataset>.retain` ({} found)",
                        found.len()
                    )),
                });
                None
            }
        }
    }

    fn evaluate(&mut self, d: &'a Decl, trains: &[&Decl], unlearns: &[&Decl]) -> Option<Evaluate> {
        let (_, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut models = None;
        let mut reference = None;
        let mut metrics: Vec<String> = ["accuracy", "mia", "indiscernibility", "rte"].map(String::from).to_vec();
        let mut metrics_span = d.name.span;
        for f in &fields {
            match f.name.name.as_str() {
                "models" => {
                    let ExprKind::List(items) = &f.value.kind else {
                        self.errors.push(LowerError::WrongType {
                            field: "models".into(),
                            expected: "a list of `train` and `unlearn` names".into(),
                            span: f.value.span,
                            found: value::describe(&f.value),
                            help: None,
                        });
                        continue;
                    };
                    let mut refs = vec![];
                    for item in items {
                        let kinds = [DeclKind::Train, DeclKind::Unlearn];
                        let wanted = "`train` or `unlearn` declaration";
                        let pool: Vec<&Decl> = trains.iter().chain(unlearns).copied().collect();
                        if let Some(i) = self.decl_ref(item, &kinds, wanted, &pool) {
                            refs.push(if i < trains.len() {
                                ModelRef::Train(i)
                            } else {
                                ModelRef::Unlearn(i - trains.len())
                            });
                        }
                    }
                    models = Some(refs);
                }
                "reference" => {
                    reference = self.decl_ref(&f.value, &[DeclKind::Train], "`train` declaration", trains);
                }
                "metrics" => {
                    metrics_span = f.value.span;
                    let ExprKind::List(items) = &f.value.kind else {
                        self.errors.push(LowerError::WrongType {
                            field: "metrics".into(),
                            expected: "a list of metric names".into(),
                            span: f.value.span,
                            found: value::describe(&f.value),
                            help: None,
                        });
                        continue;
                    };
                    metrics.clear();
                    for item in items {
                        if let Some(Value::Call(c)) =
                            value::value("metrics", ops::Ty::Call(Category::Metric), item, &mut self.errors)
                        {
                            metrics.push(c.op);
                        }
                    }
                }
                _ => self.unknown_field(f, "`evaluate`", &["models", "reference", "metrics"]),
            }
        }
        if models.is_none() {
            self.errors.push(LowerError::MissingField {
                field: "models".into(),
                context: format!("evaluate `{}`", d.name.name),
                span: d.name.span,
                help: Some("e.g. `models = [original, retrained, ft]`".into()),
            });
        }
        if metrics.iter().any(|m| m == "rte") && reference.is_none() && self.errors.len() == before {
            self.errors.push(LowerError::MissingField {
                field: "reference".into(),
                context: format!("evaluate `{}` with metric `rte`", d.name.name),
                span: metrics_span,
                help: Some("rte compares run times with a reference model: add `reference = retrained`".into()),
            });
        }
        if let Some(m) = metrics.iter().find(|m| matches!(m.as_str(), "retention" | "sape" | "distance")) {
            if reference.is_none() && self.errors.len() == before {
                self.errors.push(LowerError::MissingField {
                    field: "reference".into(),
                    context: format!("evaluate `{}` with metric `{m}`", d.name.name),
                    span: metrics_span,
                    help: Some(format!("{m} compares with a reference model: add `reference = retrained`")),
                });
            }
        }
        (self.errors.len() == before).then(|| Evaluate {
            name: d.name.name.clone(),
            span: d.name.span,
            models: models.unwrap_or_default(),
            reference,
            metrics,
        })
    }

    fn report(&mut self, d: &'a Decl, evaluates: &[&Decl]) -> Option<Report> {
        let (_, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut evaluate = None;
        let mut outputs = vec![];
        for f in &fields {
            let name = f.name.name.as_str();
            if name == "evaluate" {
                evaluate = self.decl_ref(&f.value, &[DeclKind::Evaluate], "`evaluate` declaration", evaluates);
            } else if FORMATS.contains(&name) {
                if let Some(Value::Str(path)) = value::value(name, ops::Ty::Str, &f.value, &mut self.errors) {
                    let plot_ext = Path::new(&path).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
                    if let Some(reason) = bad_report_path(&path) {
                        self.errors.push(LowerError::BadPath { path, reason: reason.into(), span: f.value.span });
                    } else if name == "plot" && !matches!(plot_ext.as_deref(), Some("svg" | "png")) {
                        let reason = "must end in `.svg` or `.png` (the plot's format)".into();
                        self.errors.push(LowerError::BadPath { path, reason, span: f.value.span });
                    } else {
                        outputs.push((name.to_string(), path));
                    }
                }
            } else {
                let mut known = vec!["evaluate"];
                known.extend(FORMATS);
                self.unknown_field(f, "`report`", &known);
            }
        }
        if evaluate.is_none() && !fields.iter().any(|f| f.name.name == "evaluate") {
            evaluate = evaluates.iter().position(|e| e.name.name == d.name.name);
            if evaluate.is_none() {
                self.errors.push(LowerError::MissingField {
                    field: "evaluate".into(),
                    context: format!("report `{}`", d.name.name),
                    span: d.name.span,
                    help: Some("name the report like its `evaluate`, or set `evaluate = <name>`".into()),
                });
            }
        }
        outputs.sort_by_key(|(format, _)| FORMATS.iter().position(|f| f == format));
        (self.errors.len() == before).then(|| Report {
            name: d.name.name.clone(),
            span: d.name.span,
            evaluate: evaluate.unwrap_or_default(),
            outputs,
        })
    }
}

/// Why a report path may not be used, if it may not.
fn bad_report_path(path: &str) -> Option<&'static str> {
    let p = Path::new(path);
    if path.is_empty() {
        return Some("is empty");
    }
    if p.is_absolute() {
        return Some("is absolute");
    }
    let mut depth = 0i32;
    for c in p.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return Some("leaves the experiment's folder");
        }
    }
    None
}
