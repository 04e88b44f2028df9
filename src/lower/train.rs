//! Lowers `train` declarations: the model, the data subset and the `train` op's fields.

use std::collections::BTreeMap;

use crate::ops::{self, Category};
use crate::syntax::ast::{Decl, DeclKind};

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
        for f in &fields {
            match f.name.name.as_str() {
                "model" => model = self.decl_index(&f.value, DeclKind::Model, "`model` declaration"),
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
}
