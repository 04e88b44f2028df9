//! Points: where a declaration's node sits among the dimensions it varies along.

use std::collections::{BTreeMap, BTreeSet};

use crate::lower::{Experiment, SEED};
use crate::ops::Value;

/// A combination of dimension values: the index of each named dimension's value, and the
/// model seed itself for `seed`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(in crate::plan) struct Point(BTreeMap<String, u64>);

impl Point {
    /// Every point of `dims`, the file's first dimension outermost and `seed` innermost.
    pub(in crate::plan) fn all(exp: &Experiment, dims: &BTreeSet<&str>) -> Vec<Point> {
        let mut points = vec![Point::default()];
        for dim in exp.ordered(dims) {
            let values: Vec<u64> = if dim == SEED {
                exp.seeds.clone()
            } else {
                (0..exp.dims.iter().find(|d| d.name == dim).map_or(0, |d| d.shown.len()) as u64).collect()
            };
            points = points
                .into_iter()
                .flat_map(|p| {
                    values.iter().map(move |v| {
                        let mut q = p.clone();
                        q.0.insert(dim.to_string(), *v);
                        q
                    })
                })
                .collect();
        }
        points
    }

    /// This point with only the dimensions in `dims`.
    pub(in crate::plan) fn project(&self, dims: &BTreeSet<&str>) -> Point {
        Point(self.0.iter().filter(|(d, _)| dims.contains(d.as_str())).map(|(d, v)| (d.clone(), *v)).collect())
    }

    /// This point with `dim` set to `value`.
    pub(in crate::plan) fn with(&self, dim: &str, value: u64) -> Point {
        let mut p = self.clone();
        p.0.insert(dim.to_string(), value);
        p
    }

    /// The coordinates, by dimension name.
    pub(in crate::plan) fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(d, v)| (d.as_str(), *v))
    }

    pub(in crate::plan) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(in crate::plan) fn seed(&self) -> Option<u64> {
        self.0.get(SEED).copied()
    }

    /// `value` with every sweep bound to its value here.
    pub(in crate::plan) fn bind(&self, value: &Value) -> Value {
        value.bind(&|dim| self.0.get(dim).map_or(0, |i| *i as usize))
    }

    /// Every value of `params` bound here.
    pub(in crate::plan) fn bind_all(&self, params: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
        params.iter().map(|(k, v)| (k.clone(), self.bind(v))).collect()
    }

    /// The coordinates as (dimension, value shown), in the file's order of dimensions.
    pub(in crate::plan) fn shown(&self, exp: &Experiment) -> Vec<(String, String)> {
        let dims: BTreeSet<&str> = self.0.keys().map(String::as_str).collect();
        exp.ordered(&dims)
            .into_iter()
            .map(|dim| {
                let v = self.0[dim];
                let shown = match exp.dims.iter().find(|d| d.name == dim) {
                    Some(d) => d.shown[v as usize].clone(),
                    None => v.to_string(),
                };
                (dim.to_string(), shown)
            })
            .collect()
    }

    /// ` [frac=0.1, seed=0]` for a label; empty without coordinates.
    pub(in crate::plan) fn suffix(&self, exp: &Experiment) -> String {
        let shown = self.shown(exp);
        if shown.is_empty() {
            return String::new();
        }
        let parts: Vec<String> = shown.into_iter().map(|(d, v)| format!("{d}={v}")).collect();
        format!(" [{}]", parts.join(", "))
    }
}

/// A declaration's nodes (or anything else) by point.
pub(in crate::plan) type Points<T> = BTreeMap<Point, T>;
