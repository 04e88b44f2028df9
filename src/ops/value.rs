//! Resolved parameter values: what lowering produces and what keys hash.

use std::collections::BTreeMap;
use std::fmt;

/// A fully resolved parameter value.
///
/// Invariant: floats are finite (lowering rejects NaN and infinities), so the canonical JSON form
/// (serde_json's shortest round-trip float formatting, sorted maps) is a function of the value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    List(Vec<Value>),
    /// A constructor such as `sgd(lr: 0.1, momentum: 0.9)`, with every field resolved.
    Call(Call),
    /// A value that varies along a dimension (`forget: frac`, `lr = each(0.01, 0.1)`). Only in
    /// lowered declarations: the planner binds it to one of its values before anything is keyed.
    Dim(Sweep),
}

/// The values a field takes along a dimension, typed for that field: `values[i]` at the
/// dimension's i-th coordinate.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub dim: String,
    pub values: Vec<Value>,
}

/// An operation applied to named, resolved arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub op: String,
    pub args: BTreeMap<String, Value>,
}

impl Value {
    /// The canonical JSON form used in keys and explanations.
    ///
    /// Floats stay JSON numbers (`5e-4` → `0.0005`), integers have no fraction (`5`), so an int
    /// field and a float field never collide; a call is `{"op": name, "args": {…}}`.
    pub(crate) fn canonical(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Int(i) => J::from(*i),
            Value::Float(f) => J::from(if *f == 0.0 { 0.0 } else { *f }),
            Value::Str(s) => J::from(s.clone()),
            Value::Bool(b) => J::from(*b),
            Value::List(items) => J::Array(items.iter().map(Value::canonical).collect()),
            Value::Call(call) => serde_json::json!({
                "op": call.op,
                "args": call.args.iter().map(|(k, v)| (k.clone(), v.canonical())).collect::<serde_json::Map<_, _>>(),
            }),
            // Never keyed (the planner binds it first); shown as what it is.
            Value::Dim(sweep) => serde_json::json!({ "dim": sweep.dim }),
        }
    }

    /// Adds the dimensions this value varies along to `out`.
    pub(crate) fn dims<'v>(&'v self, out: &mut std::collections::BTreeSet<&'v str>) {
        match self {
            Value::Dim(sweep) => {
                out.insert(&sweep.dim);
            }
            Value::List(items) => items.iter().for_each(|v| v.dims(out)),
            Value::Call(call) => call.args.values().for_each(|v| v.dims(out)),
            _ => {}
        }
    }

    /// The value at a point: every sweep replaced by its value at `index(dimension)`.
    pub(crate) fn bind(&self, index: &dyn Fn(&str) -> usize) -> Value {
        match self {
            Value::Dim(sweep) => sweep.values[index(&sweep.dim)].bind(index),
            Value::List(items) => Value::List(items.iter().map(|v| v.bind(index)).collect()),
            Value::Call(call) => Value::Call(Call {
                op: call.op.clone(),
                args: call.args.iter().map(|(k, v)| (k.clone(), v.bind(index))).collect(),
            }),
            other => other.clone(),
        }
    }

    /// The inverse of `canonical`: JSON integers are `Int`, other numbers `Float`, objects
    /// with `op` and `args` are calls.
    pub(crate) fn from_canonical(v: &serde_json::Value) -> Option<Value> {
        use serde_json::Value as J;
        Some(match v {
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) if !n.is_f64() => Value::Int(i),
                _ => Value::Float(n.as_f64()?),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(items) => Value::List(items.iter().map(Value::from_canonical).collect::<Option<_>>()?),
            J::Object(o) => Value::Call(Call {
                op: o.get("op")?.as_str()?.to_string(),
                args: o
                    .get("args")?
                    .as_object()?
                    .iter()
                    .map(|(k, v)| Some((k.clone(), Value::from_canonical(v)?)))
                    .collect::<Option<_>>()?,
            }),
            J::Null => return None,
        })
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub(crate) fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Int(i) => u64::try_from(*i).ok(),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_call(&self) -> Option<&Call> {
        match self {
            Value::Call(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// The `.munl` spelling of the value, as shown in explanations and `munl show`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{}", serde_json::Value::from(*x)),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Call(call) => {
                write!(f, "{}(", call.op)?;
                for (i, (k, v)) in call.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str(")")
            }
            Value::Dim(sweep) => f.write_str(&sweep.dim),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.canonical().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        let j = serde_json::Value::deserialize(d)?;
        Value::from_canonical(&j).ok_or_else(|| serde::de::Error::custom("not a munl value"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_round_trip_keeps_int_and_float_apart() {
        let v = Value::List(vec![
            Value::Int(5),
            Value::Float(5.0),
            Value::Float(5e-4),
            Value::Str("x".into()),
            Value::Bool(true),
            Value::Call(Call { op: "sgd".into(), args: [("lr".to_string(), Value::Float(0.1))].into() }),
        ]);
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }
}
