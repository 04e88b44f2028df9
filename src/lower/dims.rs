//! Dimensions: `dim NAME = values` declarations and inline `each(…)` sweeps, and the typing of
//! a field that takes its values from one.
//!
//! A field that names a dimension (`forget: frac`) or sweeps inline (`lr = each(0.01, 0.1)`,
//! a dimension named after its declaration and field, `ft.lr`) is typed once per value, each
//! against the field's own type and bounds, and becomes a [`Sweep`]. The planner instantiates
//! every declaration once per combination of the dimensions it depends on.

use crate::ops::{limits, Sweep, Ty, Value};
use crate::span::Span;
use crate::syntax::ast::{Decl, Expr, ExprKind};

use super::{value, LowerError};

/// The built-in dimension of model seeds (`seeds = …`).
pub(crate) const SEED: &str = "seed";

/// Names a dimension cannot have: the long CSV's other columns.
const RESERVED: &[&str] = &["dataset", "model", "method", "metric", "value"];

/// The call that sweeps a field inline.
const EACH: &str = "each";

/// The file's dimensions, in the order they are declared (inline ones where they appear).
#[derive(Default)]
pub(super) struct Dims {
    pub(super) defs: Vec<DimDef>,
    /// The declaration being lowered: it names its inline sweeps.
    pub(super) decl: String,
}

pub(super) struct DimDef {
    pub(super) name: String,
    pub(super) span: Span,
    pub(super) values: Vec<Expr>,
    pub(super) used: bool,
}

impl Dims {
    /// The dimensions declared with `dim`, checked: a range or a non-empty list of plain values,
    /// at most `limits::DIM` of them, not named `seed`.
    pub(super) fn declared(decls: &[&Decl], errors: &mut Vec<LowerError>) -> Dims {
        let mut dims = Dims::default();
        for d in decls {
            let name = d.name.name.clone();
            let bad = |errors: &mut Vec<LowerError>, message: &str, span: Span, help: Option<&str>| {
                errors.push(LowerError::BadDimension {
                    name: name.clone(),
                    message: message.into(),
                    span,
                    help: help.map(str::to_string),
                })
            };
            if name == SEED {
                bad(errors, "`seed` is the built-in dimension", d.name.span, Some("set its values with `seeds = …`"));
                continue;
            }
            if RESERVED.contains(&name.as_str()) {
                let help = format!("a report's CSV has a column `{name}` already; name the dimension otherwise");
                bad(errors, "a reserved name", d.name.span, Some(&help));
                continue;
            }
            if let Some(f) = d.fields.first() {
                bad(errors, "a dimension has no block", f.name.span, Some("e.g. `dim frac = [0.01, 0.1, 0.5]`"));
                continue;
            }
            let Some(head) = &d.head else {
                bad(errors, "no values", d.name.span, Some("e.g. `dim shadow = 0..64` or `dim frac = [0.01, 0.1]`"));
                continue;
            };
            let values = match &head.kind {
                ExprKind::Range { start, end } => {
                    let count = i128::from(*end) - i128::from(*start);
                    if count > limits::DIM.max as i128 {
                        let message = format!("{count} values, at most {}", limits::DIM.max);
                        bad(errors, &message, head.span, limits::DIM.why);
                        continue;
                    }
                    (*start..*end).map(|i| Expr { kind: ExprKind::Int(i), span: head.span }).collect()
                }
                ExprKind::List(items) if items.len() > limits::DIM.max => {
                    let message = format!("{} values, at most {}", items.len(), limits::DIM.max);
                    bad(errors, &message, head.span, limits::DIM.why);
                    continue;
                }
                ExprKind::List(items) => items.clone(),
                _ => {
                    bad(errors, "values are a range or a list", head.span, Some("e.g. `dim frac = [0.01, 0.1, 0.5]`"));
                    continue;
                }
            };
            if values.is_empty() {
                bad(errors, "no values", head.span, None);
                continue;
            }
            dims.defs.push(DimDef { name, span: d.name.span, values, used: false });
        }
        dims
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.defs.iter().position(|d| d.name == name)
    }

    /// The dimensions no field takes values from, reported.
    pub(super) fn unused(&self, errors: &mut Vec<LowerError>) {
        for d in self.defs.iter().filter(|d| !d.used) {
            errors.push(LowerError::UnusedDimension { name: d.name.clone(), span: d.span });
        }
    }

    /// Splits a `search(…)` call into the call without its arguments named after dimensions,
    /// and those arguments as coordinates: the value indices of the values they list (a value,
    /// a range or a list, each one of the dimension's own values).
    pub(super) fn restrictions(&self, call: &Expr, errors: &mut Vec<LowerError>) -> (Expr, Vec<(String, Vec<u64>)>) {
        let ExprKind::Call { callee, args } = &call.kind else { return (call.clone(), vec![]) };
        let mut kept = vec![];
        let mut at = vec![];
        for arg in args {
            let Some(index) = arg.name.as_ref().and_then(|n| self.find(&n.name)) else {
                kept.push(arg.clone());
                continue;
            };
            let dim = &self.defs[index];
            if at.iter().any(|(name, _)| *name == dim.name) {
                errors.push(LowerError::BadDimension {
                    name: dim.name.clone(),
                    message: "given twice".into(),
                    span: arg.span,
                    help: Some(format!("give every value to search at in one list: `{}: [..]`", dim.name)),
                });
                continue;
            }
            let listed: Vec<Expr> = match &arg.value.kind {
                ExprKind::Range { start, end } => (*start..(*end).min(start.saturating_add(limits::DIM.max as i64)))
                    .map(|i| Expr { kind: ExprKind::Int(i), span: arg.value.span })
                    .collect(),
                ExprKind::List(items) => items.clone(),
                _ => vec![arg.value.clone()],
            };
            let shown: Vec<String> = dim.values.iter().map(shown).collect();
            let mut indices = vec![];
            for e in &listed {
                match shown.iter().position(|s| *s == self::shown(e)) {
                    Some(i) if !indices.contains(&(i as u64)) => indices.push(i as u64),
                    Some(_) => {}
                    None => errors.push(LowerError::BadDimension {
                        name: dim.name.clone(),
                        message: format!("`{}` is not one of its values", self::shown(e)),
                        span: e.span,
                        help: Some(format!("its values are {}", shown.join(", "))),
                    }),
                }
            }
            if indices.is_empty() && listed.is_empty() {
                errors.push(LowerError::BadDimension {
                    name: dim.name.clone(),
                    message: "no values to search at".into(),
                    span: arg.value.span,
                    help: None,
                });
            }
            at.push((dim.name.clone(), indices));
        }
        let kind = ExprKind::Call { callee: callee.clone(), args: kept };
        (Expr { kind, span: call.span }, at)
    }

    /// Whether `name` is a dimension (or the built-in `seed`).
    pub(super) fn knows(&self, name: &str) -> bool {
        name == SEED || self.find(name).is_some()
    }

    /// The names of the dimensions, `seed` last.
    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.defs.iter().map(|d| d.name.as_str()).chain([SEED])
    }
}

/// When `expr` names a dimension or sweeps inline, the field's [`Sweep`] (`Some(None)` after
/// an error, reported); `None` for any other expression.
pub(super) fn sweep(
    field: &str,
    ty: Ty,
    expr: &Expr,
    errors: &mut Vec<LowerError>,
    dims: &mut Dims,
) -> Option<Option<Value>> {
    let index = match &expr.kind {
        ExprKind::Path(parts) if parts.len() == 1 => dims.find(&parts[0].name)?,
        ExprKind::Call { callee, args } if callee.name == EACH => {
            let name = format!("{}.{field}", dims.decl);
            if let Some(first) = dims.find(&name) {
                let first = dims.defs[first].span;
                errors.push(LowerError::DimensionTwice { name, span: expr.span, first });
                return Some(None);
            }
            if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
                errors.push(LowerError::BadDimension {
                    name,
                    message: "`each` takes values, not named arguments".into(),
                    span: named.span,
                    help: Some("e.g. `lr = each(0.001, 0.01, 0.1)`".into()),
                });
                return Some(None);
            }
            if args.is_empty() {
                errors.push(LowerError::BadDimension {
                    name,
                    message: "no values".into(),
                    span: expr.span,
                    help: None,
                });
                return Some(None);
            }
            let values = args.iter().map(|a| a.value.clone()).collect();
            dims.defs.push(DimDef { name, span: expr.span, values, used: false });
            dims.defs.len() - 1
        }
        _ => return None,
    };
    dims.defs[index].used = true;
    let name = dims.defs[index].name.clone();
    let exprs = dims.defs[index].values.clone();
    let before = errors.len();
    let mut values = vec![];
    for e in &exprs {
        match value::value(field, ty, e, errors, dims) {
            Some(Value::Dim(_)) => errors.push(LowerError::BadDimension {
                name: name.clone(),
                message: "a dimension's values are plain values, not dimensions".into(),
                span: e.span,
                help: None,
            }),
            Some(v) => values.push(v),
            None => {}
        }
    }
    Some((errors.len() == before).then_some(Value::Dim(Sweep { dim: name, values })))
}

/// How a dimension's value is shown in labels and report columns: as written.
pub(super) fn shown(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => serde_json::Value::from(*f).to_string(),
        ExprKind::Str(s) => s.clone(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Path(parts) => value::join_path(parts),
        ExprKind::Range { start, end } => format!("{start}..{end}"),
        ExprKind::List(items) => format!("[{}]", items.iter().map(shown).collect::<Vec<_>>().join(", ")),
        ExprKind::Call { callee, args } => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}: {}", n.name, shown(&a.value)),
                    None => shown(&a.value),
                })
                .collect();
            format!("{}({})", callee.name, args.join(", "))
        }
        ExprKind::Applied { head, args } => {
            let args: Vec<String> = args.iter().map(|a| shown(&a.value)).collect();
            format!("{}({})", shown(head), args.join(", "))
        }
    }
}
