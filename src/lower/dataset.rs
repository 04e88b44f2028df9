//! Lowers `dataset` declarations: the source, the split, the limit and the class count.

use crate::ops::{self, Category, Value};
use crate::syntax::ast::Decl;

use super::cx::Cx;
use super::{climbs_out, value, Dataset, LowerError};

impl<'a> Cx<'a> {
    /// `dataset NAME { source = …; split = …; limit = … }`; the class count follows from the source.
    pub(super) fn dataset(&mut self, d: &'a Decl) -> Option<Dataset> {
        let (head, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut source =
            head.and_then(|h| value::value("source", ops::Ty::Call(Category::Source), h, &mut self.errors));
        let mut source_span = head.map_or(d.name.span, |h| h.span);
        let mut split = None;
        let mut limit = None;
        for f in &fields {
            match f.name.name.as_str() {
                "source" => {
                    source_span = f.value.span;
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
        // Data is read from the data root or from an absolute path; a relative path may not climb
        // out of the root, where munl would otherwise fetch into (and create) any folder.
        for key in ["dir", "path"] {
            if let Some(location) = source.args.get(key).and_then(Value::as_str) {
                if climbs_out(location) {
                    self.errors.push(LowerError::BadDataPath {
                        path: location.to_string(),
                        reason: "climbs out of the data root".into(),
                        span: source_span,
                    });
                }
            }
        }
        let split = match split {
            Some(s) => s.as_call()?.clone(),
            None => ops::Default::Call("random").value()?.as_call()?.clone(),
        };
        // Known from the dataset table, or from the source's own `classes` field.
        let classes = match ops::facts(&source.op).and_then(|f| f.classes) {
            Some(n) => n,
            None => source.args.get("classes").and_then(Value::as_i64)?,
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
}
