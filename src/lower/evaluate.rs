//! Lowers `evaluate` declarations: the models compared, the reference and the metrics.

use crate::ops::{self, Category, Metric, Value};
use crate::syntax::ast::{Decl, DeclKind, ExprKind};

use super::cx::Cx;
use super::{value, Evaluate, Experiment, LowerError, ModelRef};

impl<'a> Cx<'a> {
    /// `evaluate NAME { models = […]; reference = …; metrics = […] }`; metrics that compare with a
    /// reference need `reference`.
    pub(super) fn evaluate(&mut self, d: &'a Decl) -> Option<Evaluate> {
        let (_, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut models = None;
        let mut reference = None;
        let mut metrics: Vec<Metric> = Metric::DEFAULT.to_vec();
        let mut metrics_span = d.name.span;
        let mut over = vec![super::SEED.to_string()];
        let mut over_span = d.name.span;
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
                        let Some(decl) = self.decl_ref(item, &kinds, wanted) else { continue };
                        let Some(i) = self.position(decl) else { continue };
                        refs.push(if decl.kind == DeclKind::Train { ModelRef::Train(i) } else { ModelRef::Unlearn(i) });
                    }
                    models = Some(refs);
                }
                "reference" => {
                    reference = self.decl_index(&f.value, DeclKind::Train, "`train` declaration");
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
                        if let Some(Value::Call(c)) = self.typed("metrics", ops::Ty::Call(Category::Metric), item) {
                            // The catalogue's metric entries and `Metric` are kept equal by a test.
                            metrics.extend(Metric::from_name(&c.op));
                        }
                    }
                }
                "over" => {
                    over_span = f.value.span;
                    let items = match &f.value.kind {
                        ExprKind::List(items) => items.iter().collect(),
                        _ => vec![&f.value],
                    };
                    over.clear();
                    for item in items {
                        match &item.kind {
                            // An inline sweep's dimension is `decl.field`.
                            ExprKind::Path(p) if self.dims.knows(&value::join_path(p)) => {
                                over.push(value::join_path(p))
                            }
                            _ => {
                                let known: Vec<String> = self.dims.names().map(|n| format!("`{n}`")).collect();
                                self.errors.push(LowerError::WrongType {
                                    field: "over".into(),
                                    expected: "dimension names".into(),
                                    span: item.span,
                                    found: value::describe(item),
                                    help: Some(format!("the dimensions are {}", known.join(", "))),
                                });
                            }
                        }
                    }
                }
                _ => self.unknown_field(f, "`evaluate`", &ops::field_names("evaluate")),
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
        if metrics.contains(&Metric::Rte) && reference.is_none() && self.errors.len() == before {
            self.errors.push(LowerError::MissingField {
                field: "reference".into(),
                context: format!("evaluate `{}` with metric `rte`", d.name.name),
                span: metrics_span,
                help: Some("rte compares run times with a reference model: add `reference = retrained`".into()),
            });
        }
        if let Some(m) = metrics.iter().find(|m| m.needs_reference() && **m != Metric::Rte).map(|m| m.name()) {
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
            over,
            over_span,
        })
    }

    /// Every evaluation aggregates over dimensions its models vary along.
    pub(super) fn evaluations_along(&mut self, exp: &Experiment) {
        for e in &exp.evaluates {
            let mut along = std::collections::BTreeSet::new();
            for m in &e.models {
                along.extend(exp.model_ref_dims(*m));
            }
            if e.metrics.contains(&Metric::Ulira) {
                for m in &e.models {
                    let train = match *m {
                        ModelRef::Train(i) => i,
                        ModelRef::Unlearn(i) => exp.unlearns[i].from,
                    };
                    let ds = &exp.datasets[exp.trains[train].dataset];
                    if ds.split.op != "lira" {
                        self.errors.push(LowerError::MissingField {
                            field: "split = lira(shadow: …, draw: …)".into(),
                            context: format!("dataset `{}`, for U-LiRA in evaluate `{}`", ds.name, e.name),
                            span: ds.span,
                            help: Some(
                                "U-LiRA attacks runs on shadow splits: `dim shadow = 0..64`, `dim draw = 0..10`, \
                                 `split = lira(shadow: shadow, draw: draw)`, and `over = [shadow, draw, seed]`"
                                    .into(),
                            ),
                        });
                        break;
                    }
                }
            }
            for dim in e.over.iter().filter(|d| !along.contains(d.as_str())) {
                let shown: Vec<String> = exp.ordered(&along).iter().map(|d| format!("`{d}`")).collect();
                self.errors.push(LowerError::NotAlong {
                    evaluate: e.name.clone(),
                    dim: dim.clone(),
                    span: e.over_span,
                    help: Some(format!("its models vary along {}", shown.join(", "))),
                });
            }
        }
    }
}
