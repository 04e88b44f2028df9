//! A catalogue op's fields as the torch backend reads them, from a node or from a method's
//! context. Lowering filled every default from the catalogue, so a missing field is a bug in
//! munl — an internal failure — and never a reason to assume a value here.

use crate::artifact::NodeFailure;
use crate::ops::Value;
use crate::plan::{Node, Params};

/// The fields of one op, for typed reads by name.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    op: &'a str,
    params: &'a Params,
}

/// The fields of a node's op.
pub(crate) fn of(node: &Node) -> Fields<'_> {
    Fields { op: &node.op, params: node.payload.params() }
}

impl<'a> Fields<'a> {
    /// The fields `params` of the op `op`.
    pub(crate) fn new(op: &'a str, params: &'a Params) -> Fields<'a> {
        Fields { op, params }
    }

    /// The field `name`.
    pub(crate) fn value(self, name: &str) -> Result<&'a Value, NodeFailure> {
        self.params.get(name).ok_or_else(|| NodeFailure::new(format!("`{}` has no field `{name}`", self.op)))
    }

    /// An integer field.
    pub(crate) fn int(self, name: &str) -> Result<i64, NodeFailure> {
        let v = self.value(name)?;
        v.as_i64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be an integer, got {v}")))
    }

    /// An integer field that counts something (epochs, batch sizes): at least 1.
    pub(crate) fn count(self, name: &str) -> Result<i64, NodeFailure> {
        let n = self.int(name)?;
        if n < 1 {
            return Err(NodeFailure::new(format!("`{name}` must be at least 1, got {n}")));
        }
        Ok(n)
    }

    /// A non-negative integer field.
    pub(crate) fn natural(self, name: &str) -> Result<u64, NodeFailure> {
        let v = self.value(name)?;
        v.as_u64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a non-negative integer, got {v}")))
    }

    /// A number field.
    pub(crate) fn float(self, name: &str) -> Result<f64, NodeFailure> {
        let v = self.value(name)?;
        v.as_f64().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a number, got {v}")))
    }

    /// `true` or `false`.
    pub(crate) fn flag(self, name: &str) -> Result<bool, NodeFailure> {
        match self.value(name)? {
            Value::Bool(b) => Ok(*b),
            v => Err(NodeFailure::new(format!("`{name}` must be `true` or `false`, got {v}"))),
        }
    }

    /// A number or a list of numbers, as a list.
    pub(crate) fn floats(self, name: &str) -> Result<Vec<f64>, NodeFailure> {
        let v = self.value(name)?;
        let bad = || NodeFailure::new(format!("`{name}` must be a number or a list of numbers, got {v}"));
        match v {
            Value::List(items) => items.iter().map(|i| i.as_f64().ok_or_else(bad)).collect(),
            other => Ok(vec![other.as_f64().ok_or_else(bad)?]),
        }
    }

    /// A word or string field.
    pub(crate) fn word(self, name: &str) -> Result<&'a str, NodeFailure> {
        let v = self.value(name)?;
        v.as_str().ok_or_else(|| NodeFailure::new(format!("`{name}` must be a word, got {v}")))
    }

    /// A list-of-integers field.
    pub(crate) fn ints(self, name: &str) -> Result<Vec<i64>, NodeFailure> {
        let v = self.value(name)?;
        let bad = || NodeFailure::new(format!("`{name}` must be a list of integers, got {v}"));
        match v {
            Value::List(items) => items.iter().map(|x| x.as_i64().ok_or_else(bad)).collect(),
            _ => Err(bad()),
        }
    }
}
