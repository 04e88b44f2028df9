//! Lowers `train` declarations: the model, the data subset and the `train` op's fields.

use std::collections::BTreeMap;

use crate::diag::did_you_mean;
use crate::ops::{self, Category};
use crate::syntax::ast::{Decl, DeclKind, Expr, ExprKind};

use super::cx::Cx;
use super::{value, LowerError, Train};

impl<'a> Cx<'a> {
    /// `train NAME { model = …; data = <dataset>.<subset>; … }`, unset fields defaulted; `model` and
    /// `data` are indices among the `model` and `dataset` declarations.
    pub(super) fn train(&mut self, d: &'a Decl) -> Option<Train> {
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
        // A field inherited from a parent is the parent's: its problems are reported there, once,
        // and not again by every declaration that inherits it. It still fails this declaration.
        let mut inherited_failed = false;
        for f in &fields {
            let mark = self.errors.len();
            match f.name.name.as_str() {
                "model" => model = self.model_ref(&f.value),
                "data" => data = self.subset(&f.value),
                name => match spec.field(name) {
                    Some(fs) => {
                        if let Some(v) = self.typed(name, fs.ty, &f.value) {
                            params.insert(name.to_string(), v);
                        }
                    }
                    None => self.unknown_field(f, "`train`", &known),
                },
            }
            if self.errors.len() > mark && !d.fields.iter().any(|own| std::ptr::eq(own, *f)) {
                self.errors.truncate(mark);
                inherited_failed = true;
            }
        }
        for fs in spec.fields {
            if !params.contains_key(fs.name) {
                if let Some(v) = fs.default.value() {
                    params.insert(fs.name.to_string(), v);
                }
            }
        }
        // A field missing here is missing from every ancestor too: it is reported once, at the
        // root of the inheritance chain (the declaration that should write it).
        let inherits = matches!(&d.head, Some(Expr { kind: ExprKind::Path(p), .. }) if p.len() == 1);
        for (field, present) in [("model", model.is_some()), ("data", data.is_some())] {
            if !present && !inherits && !fields.iter().any(|f| f.name.name == field) {
                let help = match field {
                    "model" => Some(self.missing_model_help()),
                    _ => spec.field(field).map(|f| f.doc.to_string()),
                };
                self.errors.push(LowerError::MissingField {
                    field: field.into(),
                    context: format!("train `{}`", d.name.name),
                    span: d.name.span,
                    help,
                });
            }
        }
        let ((dataset, subset), model) = (data?, model?);
        (self.errors.len() == before && !inherited_failed).then(|| Train {
            name: d.name.name.clone(),
            span: d.name.span,
            model,
            dataset,
            subset,
            params,
            written: fields.iter().map(|f| f.name.name.clone()).collect(),
        })
    }
}

impl<'a> Cx<'a> {
    /// `model = NAME` in a `train` block: the index of the `model` declaration it names. An
    /// unknown name gets help that knows the declared models and the catalogue's architectures:
    /// writing an architecture (`resnet18`) where a declared model belongs is the usual slip.
    fn model_ref(&mut self, e: &Expr) -> Option<usize> {
        let unknown = match &e.kind {
            ExprKind::Path(p) if p.len() == 1 && !self.is_declared(&p[0].name) => Some((&p[0].name, e.span)),
            _ => None,
        };
        let Some((name, span)) = unknown else {
            return self.decl_index(e, DeclKind::Model, "`model` declaration");
        };
        let help = self.unknown_model_help(name);
        self.errors.push(LowerError::UnknownName {
            name: name.clone(),
            span,
            wanted: "`model` declaration".into(),
            help: Some(help),
        });
        None
    }

    /// The declared models, each with the architecture its head calls (`None` for a parent or
    /// anything else).
    fn declared_models(&self) -> Vec<(&'a str, Option<&'a str>)> {
        self.of_kind(DeclKind::Model)
            .into_iter()
            .map(|m| {
                let arch = match m.head.as_ref().map(|h| &h.kind) {
                    Some(ExprKind::Call { callee, .. }) => Some(callee.name.as_str()),
                    _ => None,
                };
                (m.name.name.as_str(), arch)
            })
            .collect()
    }

    /// Help for `model = NAME` where no declaration is called NAME.
    fn unknown_model_help(&self, name: &str) -> String {
        let models = self.declared_models();
        let names: Vec<&str> = models.iter().map(|(n, _)| *n).collect();
        if let Some(close) = did_you_mean(name, names.iter().copied()) {
            return format!("did you mean `{close}`?");
        }
        let archs: Vec<&str> = ops::in_category(Category::Arch).map(|o| o.name).filter(|n| *n != "python").collect();
        let arch = archs.iter().copied().find(|a| *a == name).or_else(|| {
            let close = did_you_mean(name, archs.iter().copied())?;
            archs.iter().copied().find(|a| *a == close)
        });
        if let Some(arch) = arch {
            if let Some((declared, _)) = models.iter().find(|(_, a)| *a == Some(arch)) {
                return format!(
                    "did you mean `{declared}`? `{arch}` is an architecture, and `{declared}` the model declared with it"
                );
            }
            let example = if self.is_declared("net") { format!("{arch}_net") } else { "net".to_string() };
            return format!(
                "`{arch}` is an architecture: declare a model with it, `model {example} = {arch}()`, and write `model = {example}`"
            );
        }
        match names.as_slice() {
            [] => "declare a model first, e.g. `model net = resnet18()`, and write `model = net`".into(),
            [one] => format!("did you mean `{one}`? it is the only `model` declaration"),
            many => format!("the `model` declarations are {}", quoted(many)),
        }
    }

    /// Help for a `train` block without `model`.
    fn missing_model_help(&self) -> String {
        let names: Vec<&str> = self.declared_models().into_iter().map(|(n, _)| n).collect();
        match names.as_slice() {
            [] => "declare a model, e.g. `model net = resnet18()`, and add `model = net`".into(),
            [one] => format!("add `model = {one}`"),
            many => format!("add `model = NAME`, NAME one of the `model` declarations: {}", quoted(many)),
        }
    }
}

/// `` `a`, `b`, `c` ``
fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}
