//! Typing expressions against the catalogue: an `ast::Expr` and a `Ty` give a `Value`.

use std::collections::BTreeMap;

use crate::diag::did_you_mean;
use crate::ops::{self, Call, Category, Ty, Value};
use crate::syntax::ast::{Arg, Expr, ExprKind};

use super::dims::Dims;
use super::LowerError;

/// Names that introduce a searched field (allowed in `unlearn` blocks with `tune`).
const DISTRIBUTIONS: &[&str] = &["uniform", "log_uniform", "int_uniform", "choice"];

/// What an expression looks like, for "found …" labels.
pub(super) fn describe(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(_) => "an integer".into(),
        ExprKind::Float(_) => "a number".into(),
        ExprKind::Str(_) => "a string".into(),
        ExprKind::Bool(_) => "a boolean".into(),
        ExprKind::Range { .. } => "a range".into(),
        ExprKind::List(_) => "a list".into(),
        ExprKind::Call { callee, .. } => format!("a call of `{}`", callee.name),
        ExprKind::Applied { head, .. } => format!("{} applied to arguments", describe(head)),
        ExprKind::Path(parts) => format!("the name `{}`", join_path(parts)),
    }
}

pub(super) fn join_path(parts: &[crate::syntax::ast::Ident]) -> String {
    parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")
}

/// The span of the value of argument `name` in the call `expr`, if it gives one by name.
pub(super) fn arg_span(expr: &Expr, name: &str) -> Option<crate::span::Span> {
    let ExprKind::Call { args, .. } = &expr.kind else { return None };
    args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == name)).map(|a| a.value.span)
}

/// Is this a distribution (a searched value)?
pub(super) fn is_distribution(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Call { callee, .. } if DISTRIBUTIONS.contains(&callee.name.as_str()))
}

/// Types `expr` as the value of `field`.
pub(super) fn value(field: &str, ty: Ty, expr: &Expr, errors: &mut Vec<LowerError>, dims: &mut Dims) -> Option<Value> {
    if let Some(swept) = super::dims::sweep(field, ty, expr, errors, dims) {
        return swept;
    }
    if is_distribution(expr) {
        errors.push(LowerError::SearchUnavailable { span: expr.span });
        return None;
    }
    let wrong = |errors: &mut Vec<LowerError>, help: Option<String>| {
        errors.push(LowerError::WrongType {
            field: field.to_string(),
            expected: ty.describe(),
            span: expr.span,
            found: describe(expr),
            help,
        });
        None
    };
    match (ty, &expr.kind) {
        (Ty::Int { min, max }, ExprKind::Int(i)) => {
            if *i < min {
                return out_of_range(errors, field, format!("must be at least {min}"), None, expr);
            }
            if *i > max.max {
                return out_of_range(errors, field, format!("must be at most {}", max.max), max.why, expr);
            }
            Some(Value::Int(*i))
        }
        (Ty::Float { min, max }, ExprKind::Int(_) | ExprKind::Float(_)) => {
            let x = match expr.kind {
                ExprKind::Int(i) => i as f64,
                ExprKind::Float(f) => f,
                _ => unreachable!("matched above"),
            };
            if !x.is_finite() {
                return out_of_range(errors, field, "must be a finite number".into(), None, expr);
            }
            if x < min || x > max.max {
                // A natural bound below the largest number is the field's nature: [0, 1].
                let message = match max.why {
                    None if max.max < f64::MAX => format!("must be in [{min}, {}]", max.max),
                    _ if x < min => format!("must be at least {min}"),
                    _ => format!("must be at most {}", max.max),
                };
                let why = if x < min { None } else { max.why };
                return out_of_range(errors, field, message, why, expr);
            }
            Some(Value::Float(x))
        }
        (Ty::Str, ExprKind::Str(s)) => Some(Value::Str(s.clone())),
        (Ty::Bool, ExprKind::Bool(b)) => Some(Value::Bool(*b)),
        (Ty::Floats { max, .. }, ExprKind::Int(_) | ExprKind::Float(_)) => {
            value(field, Ty::Float { min: 0.0, max }, expr, errors, dims)
        }
        (Ty::Floats { max, max_len }, ExprKind::List(items)) if !items.is_empty() => {
            if items.len() > max_len.max {
                let message = format!("must have at most {} entries", max_len.max);
                return out_of_range(errors, field, message, max_len.why, expr);
            }
            if !items.iter().all(|i| matches!(i.kind, ExprKind::Int(_) | ExprKind::Float(_))) {
                return wrong(errors, Some("every entry must be a non-negative number".into()));
            }
            let entry = Ty::Float { min: 0.0, max };
            let out: Vec<Option<Value>> = items.iter().map(|item| value(field, entry, item, errors, dims)).collect();
            out.into_iter().collect::<Option<Vec<Value>>>().map(Value::List)
        }
        (Ty::IntList { min, max, min_len, max_len }, ExprKind::List(items)) => {
            if !items.iter().all(|i| matches!(i.kind, ExprKind::Int(_))) {
                return wrong(errors, None);
            }
            if items.len() < min_len || items.len() > max_len.max {
                let (message, why) = if min_len == max_len.max {
                    (format!("must have {min_len} entries"), None)
                } else if items.len() < min_len {
                    (format!("must have at least {min_len} entries"), None)
                } else {
                    (format!("must have at most {} entries", max_len.max), max_len.why)
                };
                return out_of_range(errors, field, message, why, expr);
            }
            let entry = Ty::Int { min, max };
            let out: Vec<Option<Value>> = items.iter().map(|item| value(field, entry, item, errors, dims)).collect();
            out.into_iter().collect::<Option<Vec<Value>>>().map(Value::List)
        }
        (Ty::Word(words), ExprKind::Path(parts)) if parts.len() == 1 => {
            let name = parts[0].name.as_str();
            if words.contains(&name) {
                Some(Value::Str(name.to_string()))
            } else {
                let help = did_you_mean(name, words.iter().copied()).map(|s| format!("did you mean `{s}`?"));
                wrong(errors, help)
            }
        }
        (Ty::Call(category), ExprKind::Call { callee, args }) => {
            call(category, &callee.name, callee.span, args, errors, dims).map(Value::Call)
        }
        (Ty::Call(category), ExprKind::Path(parts)) if parts.len() == 1 => {
            call(category, &parts[0].name, parts[0].span, &[], errors, dims).map(Value::Call)
        }
        _ => wrong(errors, None),
    }
}

/// Reports `expr` out of the range of `field`; `why` says where a bound comes from.
fn out_of_range(
    errors: &mut Vec<LowerError>,
    field: &str,
    message: String,
    why: Option<&str>,
    expr: &Expr,
) -> Option<Value> {
    errors.push(LowerError::OutOfRange {
        field: field.into(),
        message,
        span: expr.span,
        help: why.map(str::to_string),
    });
    None
}

/// Resolves `name(args…)` as an op of `category`, filling every unset field with its default.
pub(super) fn call(
    category: Category,
    name: &str,
    name_span: crate::span::Span,
    args: &[Arg],
    errors: &mut Vec<LowerError>,
    dims: &mut Dims,
) -> Option<Call> {
    let Some(op) = ops::find(category, name) else {
        let help = did_you_mean(name, ops::in_category(category).map(|o| o.name))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                let names: Vec<_> = ops::in_category(category).map(|o| format!("`{}`", o.name)).collect();
                Some(format!("known: {}", names.join(", ")))
            });
        errors.push(LowerError::UnknownOp {
            name: name.into(),
            category: category.noun().into(),
            span: name_span,
            help,
        });
        return None;
    };
    call_op(op, name, name_span, args, errors, dims)
}

/// Types `args` as the fields of `op` (a catalogue entry, or a Python method's fields) and fills
/// every default; `name` is the op as written, for messages.
pub(super) fn call_op(
    op: &ops::OpSpec,
    name: &str,
    name_span: crate::span::Span,
    args: &[Arg],
    errors: &mut Vec<LowerError>,
    dims: &mut Dims,
) -> Option<Call> {
    let before = errors.len();
    let mut set: BTreeMap<String, (Value, crate::span::Span)> = BTreeMap::new();
    // Fields given but ill-typed: reported as such, not again as missing.
    let mut ill_typed = std::collections::BTreeSet::new();
    let mut positional = op.positional.iter();
    for arg in args {
        let field_name = match &arg.name {
            Some(n) => n.name.clone(),
            None => match positional.next() {
                Some(p) => p.to_string(),
                None => {
                    errors.push(LowerError::WrongType {
                        field: name.into(),
                        expected: format!("at most {} positional argument(s)", op.positional.len()),
                        span: arg.span,
                        found: "another one".into(),
                        help: Some("name the argument: `field: value`".into()),
                    });
                    continue;
                }
            },
        };
        let Some(spec) = op.field(&field_name) else {
            errors.push(LowerError::UnknownField {
                field: field_name.clone(),
                context: format!("`{name}`"),
                span: arg.name.as_ref().map_or(arg.span, |n| n.span),
                help: did_you_mean(&field_name, op.fields.iter().map(|f| f.name))
                    .map(|s| format!("did you mean `{s}`?")),
            });
            continue;
        };
        if let Some((_, first)) = set.get(&field_name) {
            errors.push(LowerError::DuplicateField { field: field_name, span: arg.span, first: *first });
            continue;
        }
        match value(&field_name, spec.ty, &arg.value, errors, dims) {
            Some(v) => {
                set.insert(field_name, (v, arg.span));
            }
            None => {
                ill_typed.insert(field_name);
            }
        }
    }
    let mut out = BTreeMap::new();
    for spec in op.fields {
        match set.remove(spec.name) {
            Some((v, _)) => {
                out.insert(spec.name.to_string(), v);
            }
            None => match spec.default.value() {
                Some(v) => {
                    out.insert(spec.name.to_string(), v);
                }
                None if ill_typed.contains(spec.name) => {}
                None => errors.push(LowerError::MissingField {
                    field: spec.name.into(),
                    context: format!("`{name}`"),
                    span: name_span,
                    help: Some(format!("`{}`: {}", spec.name, spec.doc)),
                }),
            },
        }
    }
    (errors.len() == before).then(|| Call { op: op.name.to_string(), args: out })
}
