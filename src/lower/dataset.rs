//! Lowers `dataset` declarations: the source, the split, the limit and the class count.

use crate::ops::{self, limits, Category, Value};
use crate::syntax::ast::{Decl, Expr};

use super::cx::Cx;
use super::{climbs_out, value, Dataset, LowerError};

const GIB: f64 = (1u64 << 30) as f64;

/// `limit = N` keeps N train images and N/6 test images: at least one of each.
const LIMIT: ops::Ty = ops::Ty::Int { min: 6, max: limits::IMAGES };

impl<'a> Cx<'a> {
    /// `dataset NAME { source = …; split = …; limit = … }`; the class count follows from the source.
    pub(super) fn dataset(&mut self, d: &'a Decl) -> Option<Dataset> {
        let (head, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut source = head.and_then(|h| self.typed("source", ops::Ty::Call(Category::Source), h));
        let mut source_expr = head;
        let mut split = None;
        let mut limit = None;
        for f in &fields {
            match f.name.name.as_str() {
                "source" => {
                    source_expr = Some(&f.value);
                    source = self.typed("source", ops::Ty::Call(Category::Source), &f.value)
                }
                "split" => split = self.typed("split", ops::Ty::Call(Category::Split), &f.value),
                "limit" => limit = self.typed("limit", LIMIT, &f.value),
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
        let source_span = source_expr.map_or(d.name.span, |e| e.span);
        if source.op == "synthetic" {
            self.generated(&source, source_expr);
        }
        // Data is read from the data root or from an absolute path; a relative path may not climb
        // out of the root, where munl would otherwise fetch into (and create) any folder.
        for key in ["dir", "path"] {
            if let Some(location) = source.args.get(key).and_then(Value::as_str) {
                // `./…` is data that lives with the experiment, relative to this file's folder.
                let (rest, root) = match location.strip_prefix("./") {
                    Some(rest) => (rest, "this file's folder"),
                    None => (location, "the data root"),
                };
                if climbs_out(rest) {
                    self.errors.push(LowerError::BadDataPath {
                        path: location.to_string(),
                        reason: format!("climbs out of {root}"),
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

    /// What the catalogue's types cannot say about `synthetic(…)`: images have 1 or 3 channels,
    /// and the generated data fits munl's limit (`limits::GENERATED_BYTES`).
    fn generated(&mut self, source: &ops::Call, expr: Option<&Expr>) {
        let int = |name: &str| source.args.get(name).and_then(Value::as_i64);
        let shape: Vec<i64> = match source.args.get("shape") {
            Some(Value::List(items)) => items.iter().filter_map(Value::as_i64).collect(),
            _ => return,
        };
        let (Some(size), Some(test), &[c, h, w]) = (int("size"), int("test"), shape.as_slice()) else { return };
        if c != 1 && c != 3 {
            if let Some(span) = expr.and_then(|e| value::arg_span(e, "shape")).or(expr.map(|e| e.span)) {
                self.errors.push(LowerError::OutOfRange {
                    field: "shape".into(),
                    message: format!("images have 1 (grey) or 3 (RGB) channels, not {c}"),
                    span,
                    help: Some("`shape` is [channels, height, width]".into()),
                });
            }
            return;
        }
        // Each factor is bounded by the types, so the product fits: (2 × 10^7) × 3 × 4096².
        let bytes = [size + test, c, h, w].iter().map(|&x| x as u64).product::<u64>();
        let max = limits::GENERATED_BYTES;
        if let (true, Some(span)) = (bytes > max.max, expr.map(|e| e.span)) {
            self.errors.push(LowerError::OutOfRange {
                field: "synthetic".into(),
                message: format!(
                    "{} images of {c}×{h}×{w} pixels take {:.1} GiB, at most {} GiB",
                    size + test,
                    bytes as f64 / GIB,
                    max.max as f64 / GIB
                ),
                span,
                help: max.why.map(str::to_string),
            });
        }
    }
}
