//! Searched fields of an `unlearn` block: distributions written in the file, or the method's
//! reference search space (unlearners.md §1, §3) when `tune = search(…)` names none.

#[cfg(test)]
use crate::ops;
use crate::ops::{Default, FieldSpec, OpSpec, Space, Ty, Value};
use crate::syntax::ast::{Expr, ExprKind};

use super::ir::{Dist, ExportMode, SearchSettings};
use super::value::describe;
use super::LowerError;
use crate::ops::Call;
use crate::search::SamplerKind;

/// The typed fields of a `search(…)` call that the catalogue checked and defaulted; `None` only
/// if the call is not one (lowering has reported that already).
pub(super) fn settings(call: &Call) -> Option<SearchSettings> {
    let trials = call.args.get("trials")?.as_i64().and_then(|n| usize::try_from(n).ok())?;
    let Value::List(seeds) = call.args.get("seeds")? else { return None };
    let seeds = seeds.iter().map(|s| s.as_i64().and_then(|s| u64::try_from(s).ok())).collect::<Option<_>>()?;
    let sampler = SamplerKind::from_name(call.args.get("sampler")?.as_str()?)?;
    let export = match call.args.get("export")?.as_str()? {
        "reference" => ExportMode::Reference,
        "searched" => ExportMode::Searched,
        _ => return None,
    };
    Some(SearchSettings { trials, seeds, sampler, export, at: vec![] })
}

/// The epoch cap of searched epoch-like fields: ⌈0.2 × the original's training epochs⌉
/// (unlearners.md §1: 37 for 182 epochs, 10 for 50).
pub(super) fn epoch_cap(original_epochs: i64) -> i64 {
    ((original_epochs as f64) * 0.2).ceil().max(1.0) as i64
}

/// A field's reference distribution, with the epoch cap resolved.
pub(super) fn reference(space: Space, ty: Ty, e_max: i64) -> Dist {
    match space {
        Space::LogUniform(a, b) => Dist::LogUniform(a, b),
        Space::Uniform(a, b) => Dist::Uniform(a, b),
        Space::Epochs => Dist::IntUniform(1, e_max),
        Space::EpochsFloat => Dist::Uniform(1.0, e_max as f64),
        Space::IntUniform(a, b) => Dist::IntUniform(a, b),
        Space::Choice(c) => Dist::Choice(c.iter().map(|v| Value::Int(*v)).collect()),
        Space::Fixed(v) => Dist::Fixed(match ty {
            Ty::Int { .. } => Value::Int(v as i64),
            _ => Value::Float(v),
        }),
    }
}

/// The method's reference space minus the fields the file fixes, in the reference's
/// suggestion order.
pub(super) fn reference_space(op: &OpSpec, fixed: &[&str], e_max: i64) -> Vec<(String, Dist)> {
    op.suggestion_order()
        .into_iter()
        .filter(|f| !fixed.contains(&f.name))
        .filter_map(|f| Some((f.name.to_string(), reference(f.space?, f.ty, e_max))))
        .collect()
}

/// Puts searched fields in the order a search suggests them (`OpSpec::suggestion_order`):
/// the reference's order, then fields the reference does not search in catalogue order.
pub(super) fn in_suggestion_order(op: &OpSpec, space: &mut [(String, Dist)]) {
    let order = op.suggestion_order();
    space.sort_by_key(|(n, _)| order.iter().position(|f| f.name == n));
}

fn number(e: &Expr) -> Option<f64> {
    match e.kind {
        ExprKind::Int(i) => Some(i as f64),
        ExprKind::Float(f) => Some(f),
        _ => None,
    }
}

/// A distribution written for `field`: `uniform(a, b)`, `log_uniform(a, b)` (a > 0),
/// `int_uniform(a, b)` (integer fields), `choice([…])`, each within the field's type.
pub(super) fn written(field: &FieldSpec, expr: &Expr, errors: &mut Vec<LowerError>) -> Option<Dist> {
    let ExprKind::Call { callee, args } = &expr.kind else { return None };
    let wrong = |errors: &mut Vec<LowerError>, expected: &str| {
        errors.push(LowerError::WrongType {
            field: field.name.to_string(),
            expected: expected.into(),
            span: expr.span,
            found: describe(expr),
            help: Some(format!("`{}` is {}", field.name, within(field.ty))),
        });
        None
    };
    let values: Vec<&Expr> = args.iter().map(|a| &a.value).collect();
    let pair = || match values.as_slice() {
        [a, b] => Some((number(a)?, number(b)?)),
        _ => None,
    };
    let in_type = |x: f64| match field.ty {
        Ty::Int { min, max } => x.fract() == 0.0 && x >= min as f64 && x <= max.max as f64,
        Ty::Float { min, max } => x >= min && x <= max.max,
        _ => false,
    };
    let dist = match (callee.name.as_str(), field.ty) {
        ("uniform", Ty::Float { .. }) => match pair() {
            Some((a, b)) if a < b && in_type(a) && in_type(b) => Dist::Uniform(a, b),
            _ => return wrong(errors, "`uniform(low, high)` with low < high inside the field's range"),
        },
        ("log_uniform", Ty::Float { .. }) => match pair() {
            Some((a, b)) if 0.0 < a && a < b && in_type(b) => Dist::LogUniform(a, b),
            _ => return wrong(errors, "`log_uniform(low, high)` with 0 < low < high"),
        },
        ("int_uniform", Ty::Int { .. }) => match pair() {
            Some((a, b)) if a < b && in_type(a) && in_type(b) => Dist::IntUniform(a as i64, b as i64),
            _ => return wrong(errors, "`int_uniform(low, high)` of integers with low < high"),
        },
        ("choice", Ty::Int { .. } | Ty::Float { .. }) => {
            let items = match values.as_slice() {
                [Expr { kind: ExprKind::List(items), .. }] if !items.is_empty() => items,
                _ => return wrong(errors, "`choice([a, b, …])`"),
            };
            let mut out = vec![];
            for item in items {
                match (number(item), field.ty) {
                    (Some(x), Ty::Int { .. }) if in_type(x) => out.push(Value::Int(x as i64)),
                    (Some(x), Ty::Float { .. }) if in_type(x) => out.push(Value::Float(x)),
                    _ => return wrong(errors, "`choice([…])` of values the field accepts"),
                }
            }
            Dist::Choice(out)
        }
        _ => {
            let expected = match field.ty {
                Ty::Int { .. } => "`int_uniform(a, b)` or `choice([…])`",
                _ => "`uniform(a, b)`, `log_uniform(a, b)` or `choice([…])`",
            };
            return wrong(errors, expected);
        }
    };
    Some(dist)
}

/// A numeric type with its bounds, for help texts: "an integer from 1 to 10000 (munl's limit …)".
fn within(ty: Ty) -> String {
    let (what, min, max, why) = match ty {
        Ty::Int { min, max } => ("an integer", min.to_string(), max.max.to_string(), max.why),
        Ty::Float { min, max } if max.max == f64::MAX => return format!("a finite number of at least {min}"),
        Ty::Float { min, max } => ("a number", min.to_string(), max.max.to_string(), max.why),
        other => return other.describe(),
    };
    match why {
        Some(why) => format!("{what} from {min} to {max} ({why})"),
        None => format!("{what} from {min} to {max}"),
    }
}

/// Is the default of this field a number (only numeric fields can be searched)?
pub(super) fn searchable(field: &FieldSpec) -> bool {
    matches!(field.default, Default::Int(_) | Default::Float(_))
        && matches!(field.ty, Ty::Int { .. } | Ty::Float { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_caps_match_the_reference() {
        assert_eq!(epoch_cap(182), 37);
        assert_eq!(epoch_cap(50), 10);
        assert_eq!(epoch_cap(91), 19);
    }

    #[test]
    fn the_reference_space_of_salun_pins_momentum_and_drops_fixed_fields() {
        let op = ops::find(ops::Category::Method, "salun").unwrap();
        let space = reference_space(op, &["threshold"], 10);
        let names: Vec<&str> = space.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["lr", "momentum", "weight_decay", "batch", "epochs", "mask_lr", "mask_momentum", "mask_weight_decay"]
        );
        assert_eq!(space[1].1, Dist::Fixed(Value::Float(0.9)));
        assert_eq!(space[4].1, Dist::IntUniform(1, 10));
    }

    /// The searched fields of each tuned `unlearn` of `units`, lowered from a small file.
    fn lowered_spaces(units: &str) -> Vec<(String, Vec<String>)> {
        let text = format!(
            r#"
seeds = 0..1
dataset mnist {{
  source = mnist("mnist")
  split  = random(val: 0.15, forget: 0.10, seed: 123)
}}
model net = resnet18()
train original {{
  model  = net
  data   = mnist.train
  epochs = 50
  batch  = 256
  optim  = sgd(lr: 0.1, momentum: 0.9, weight_decay: 5e-4)
  sched  = cosine()
}}
train retrained = original {{ data = mnist.retain }}
{units}
"#
        );
        let source = crate::source::Source::new("order.munl", text);
        let compiled = crate::compile::compile(&source, std::path::Path::new("data")).expect("compiles");
        compiled
            .experiment
            .unlearns
            .iter()
            .map(|u| {
                let space = u.search.as_ref().expect("tuned").space.iter().map(|(n, _)| n.clone()).collect();
                (u.name.clone(), space)
            })
            .collect()
    }

    #[test]
    fn a_lowered_search_suggests_in_the_reference_order() {
        let spaces = lowered_spaces(
            "unlearn ft = finetune(original) { tune = search(trials: 4, seeds: [0]) }
unlearn m = msg(original) { tune = search(trials: 4, seeds: [0]) }
unlearn p = prmq(original) { batch = 64; tune = search(trials: 4, seeds: [0]) }
unlearn k = cf_k(original) { tune = search(trials: 4, seeds: [0]) }
unlearn w = finetune(original) {
  epochs = int_uniform(1, 5)
  weight_decay = log_uniform(1e-5, 1e-2)
  lr = log_uniform(1e-4, 1e-1)
  tune = search(trials: 4, seeds: [0])
}",
        );
        let want: [(&str, &[&str]); 5] = [
            ("ft", &["lr", "momentum", "weight_decay", "batch", "epochs"]),
            ("m", &["init_rate", "lr", "momentum", "weight_decay", "batch", "epochs"]),
            ("p", &["prune_amount", "lr", "momentum", "weight_decay", "epochs"]),
            ("k", &["epochs", "batch", "decay_rate", "sgda_lr", "l2", "lr", "momentum", "num_blocks"]),
            // Written distributions are suggested in the reference's order too.
            ("w", &["lr", "weight_decay", "epochs"]),
        ];
        assert_eq!(spaces.len(), want.len());
        for ((name, space), (want_name, want_space)) in spaces.iter().zip(want) {
            assert_eq!(name, want_name);
            assert_eq!(space, want_space, "{name}");
        }
    }
}
