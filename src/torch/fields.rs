//! A catalogue op's fields as the torch backend reads them from a node. Lowering filled every
//! default from the catalogue, so a missing field is a bug in munl — an internal failure — and
//! never a reason to assume a value here.

use crate::artifact::NodeFailure;
use crate::ops::Value;
use crate::plan::Node;

/// The field `name` of the node's op.
pub(crate) fn value<'a>(node: &'a Node, name: &str) -> Result<&'a Value, NodeFailure> {
    node.param(name).ok_or_else(|| NodeFailure::new(format!("`{}` has no field `{name}`", node.op)))
}

/// An integer field.
pub(crate) fn int(node: &Node, name: &str) -> Result<i64, NodeFailure> {
    let v = value(node, name)?;
    v.as_i64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be an integer, got {v}")))
}

/// An integer field that counts something: at least 1.
pub(crate) fn count(node: &Node, name: &str) -> Result<i64, NodeFailure> {
    let v = value(node, name)?;
    v.as_i64()
        .filter(|&n| n >= 1)
        .ok_or_else(|| NodeFailure::new(format!("`{name}` must be a positive integer, got {v}")))
}

/// A non-negative integer field.
pub(crate) fn natural(node: &Node, name: &str) -> Result<u64, NodeFailure> {
    let v = value(node, name)?;
    v.as_u64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a non-negative integer, got {v}")))
}

/// A number field.
pub(crate) fn float(node: &Node, name: &str) -> Result<f64, NodeFailure> {
    let v = value(node, name)?;
    v.as_f64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a number, got {v}")))
}

/// A word or string field.
pub(crate) fn word<'a>(node: &'a Node, name: &str) -> Result<&'a str, NodeFailure> {
    let v = value(node, name)?;
    v.as_str().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a word, got {v}")))
}

/// A list-of-integers field.
pub(crate) fn ints(node: &Node, name: &str) -> Result<Vec<i64>, NodeFailure> {
    let v = value(node, name)?;
    match v {
        Value::List(items) => items
            .iter()
            .map(|x| {
                x.as_i64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a list of integers, got {v}")))
            })
            .collect(),
        _ => Err(NodeFailure::new(format!("`{name}` must be a list of integers, got {v}"))),
    }
}
