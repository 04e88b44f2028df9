//! Lowers `unlearn` declarations: the method, the `train` it starts from, its fixed fields and
//! the search of `tune = search(…)` with the Retrain model it scores against.

use crate::ops::{self, Category, Value};
use crate::span::Span;
use crate::syntax::ast::{Decl, DeclKind, Expr, ExprKind};

use super::cx::Cx;
use super::{ir, search, value, LowerError, Train, Unlearn};

impl<'a> Cx<'a> {
    /// `unlearn NAME = method(train) { … }`; `lowered` holds the trains lowered so far, which the
    /// search reads the epochs and the Retrain model from.
    pub(super) fn unlearn(&mut self, d: &'a Decl, lowered: &[Train]) -> Option<Unlearn> {
        let (head, fields) = self.effective(d)?;
        let is_python = |h: &Expr| match &h.kind {
            ExprKind::Applied { .. } => true,
            ExprKind::Call { callee, .. } => callee.name == "python",
            _ => false,
        };
        let (spec, shown, name_span, args, span, code) = match head {
            // `python("mine.py")(original)`: the method's fields come from the file.
            Some(h) if is_python(h) => {
                let m = self.python_method(h)?;
                (m.spec, m.shown, m.span, m.args, m.span, Some(m.code))
            }
            Some(Expr { kind: ExprKind::Call { callee, args }, span }) => {
                let Some(spec) = ops::find(Category::Method, &callee.name).filter(|s| s.name != "python") else {
                    // Reuse the unknown-op diagnostic with its suggestions.
                    self.call(Category::Method, &callee.name, callee.span, &[]);
                    return None;
                };
                (spec, spec.name.to_string(), callee.span, args.as_slice(), *span, None)
            }
            _ => {
                self.errors.push(LowerError::MissingField {
                    field: "method".into(),
                    context: format!("unlearn `{}`", d.name.name),
                    span: head.map_or(d.name.span, |h| h.span),
                    help: Some("e.g. `unlearn ft = finetune(original)`".into()),
                });
                return None;
            }
        };
        let method = spec.name;
        let from = match args {
            [arg] if arg.name.is_none() => self.decl_index(&arg.value, DeclKind::Train, "`train` declaration"),
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: method.into(),
                    expected: "one argument: the `train` declaration to unlearn from".into(),
                    span,
                    found: format!("{} argument(s)", args.len()),
                    help: Some(if code.is_some() {
                        "e.g. `python(\"methods/mine.py\")(original)`".into()
                    } else {
                        format!("e.g. `{method}(original)`")
                    }),
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
        let params = super::value::call_op(spec, &shown, name_span, &block, &mut self.errors, &mut self.dims);
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
                // `search(…, shadow: 0..32, draw: 0)`: arguments named after dimensions say
                // which of their coordinates the searches run at; the others are the search's.
                let (tune, restricted) = self.dims.restrictions(&t.value, &mut self.errors);
                let call =
                    self.typed("tune", ops::Ty::Call(Category::Search), &tune).and_then(|v| v.as_call().cloned());
                let from = from.and_then(|i| lowered.get(i));
                let epochs = from.and_then(|original| original.params.get("epochs")).and_then(Value::as_i64);
                match (call.as_ref().and_then(search::settings), from, epochs) {
                    (Some(mut settings), Some(original), Some(epochs)) => {
                        settings.at = restricted;
                        let e_max = search::epoch_cap(epochs);
                        // Suggested in the reference's order, as its study draws them.
                        if written.is_empty() && code.is_some() {
                            self.errors.push(LowerError::MissingField {
                                field: "a search space".into(),
                                context: format!("the search of `{}`", d.name.name),
                                span: t.value.span,
                                help: Some("a Python method has no reference space: write the searched fields as distributions in the block, e.g. `lr = log_uniform(1e-4, 1e-1)`".into()),
                            });
                        }
                        let mut space: Vec<(String, ir::Dist)> = if written.is_empty() {
                            let fixed: Vec<&str> =
                                block.iter().filter_map(|a| a.name.as_ref()).map(|n| n.name.as_str()).collect();
                            search::reference_space(spec, &fixed, e_max)
                        } else {
                            written
                        };
                        search::in_suggestion_order(spec, &mut space);
                        let reference = self.retrain_of(original, lowered, t.value.span);
                        reference.map(|reference| ir::Search { settings, space, reference })
                    }
                    _ => None,
                }
            }
        };
        if self.errors.len() > before {
            return None;
        }
        let mut params = params?.args;
        if let Some(code) = &code {
            params.extend(super::python::code_fields(code));
        }
        let written = block.iter().filter_map(|a| a.name.as_ref().map(|n| n.name.clone())).collect();
        Some(Unlearn {
            name: d.name.name.clone(),
            span: d.name.span,
            method: spec.name.into(),
            from: from?,
            params,
            search,
            code,
            written,
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
}
