//! Lowering: a parsed file becomes an `Experiment` — names resolved (in any order), inheritance
//! applied, every field checked against the catalogue (types and bounds) and defaulted, seeds
//! expanded, and the whole checked against munl's limits (`bounds`).
//!
//! All problems of a file are collected; lowering fails if there is any.

mod bounds;
mod cx;
mod dataset;
mod dims;
mod error;
mod evaluate;
mod ir;
mod model;
pub(crate) mod python;
mod report;
mod search;
mod settings;
mod train;
mod unlearn;
mod value;

use std::path::Path;

pub(crate) use dims::SEED;
pub(crate) use error::LowerError;
pub(crate) use ir::{
    Dataset, Dim, Dist, EvalRef, Evaluate, Experiment, ExportMode, Imported, Model, ModelRef, PyCode, Report, Search,
    Train, Unlearn,
};

use crate::syntax::ast::{Decl, DeclKind, File};

use cx::Cx;

/// Lowers a parsed file; `base_dir` is the folder of the `.munl` file, `data_root` the folder
/// relative data paths resolve against (checked to exist, see `dataset.rs`), `source` its index
/// among the compiled sources, `imports` the files its `import` lines name, already lowered, and
/// `broken` the aliases of those that failed (reported already: names in them are not checked).
pub(crate) fn lower(
    file: &File,
    base_dir: &Path,
    data_root: &Path,
    source: usize,
    imports: Vec<Imported>,
    broken: &[String],
) -> Result<Experiment, Vec<LowerError>> {
    let mut cx = Cx::new(file, &imports, broken, base_dir, data_root);
    let mut exp = Experiment {
        seeds: vec![0],
        dims: vec![],
        device: "auto".into(),
        base_dir: base_dir.to_path_buf(),
        datasets: vec![],
        models: vec![],
        trains: vec![],
        unlearns: vec![],
        evaluates: vec![],
        reports: vec![],
        source,
        imports: vec![],
    };
    cx.settings(file, &mut exp);
    cx.dims = dims::Dims::declared(&cx.of_kind(DeclKind::Dim), &mut cx.errors);
    // Index per kind first, so references resolve regardless of declaration order.
    let datasets: Vec<&Decl> = cx.of_kind(DeclKind::Dataset);
    let models: Vec<&Decl> = cx.of_kind(DeclKind::Model);
    let trains: Vec<&Decl> = cx.of_kind(DeclKind::Train);
    let unlearns: Vec<&Decl> = cx.of_kind(DeclKind::Unlearn);
    let evaluates: Vec<&Decl> = cx.of_kind(DeclKind::Evaluate);
    let reports: Vec<&Decl> = cx.of_kind(DeclKind::Report);
    for d in &datasets {
        cx.dims.decl = d.name.name.clone();
        if let Some(x) = cx.dataset(d) {
            exp.datasets.push(x);
        }
    }
    for d in &models {
        cx.dims.decl = d.name.name.clone();
        if let Some(x) = cx.model(d) {
            exp.models.push(x);
        }
    }
    for d in &trains {
        cx.dims.decl = d.name.name.clone();
        if let Some(x) = cx.train(d) {
            exp.trains.push(x);
        }
    }
    for d in &unlearns {
        cx.dims.decl = d.name.name.clone();
        if let Some(x) = cx.unlearn(d, &exp.trains) {
            exp.unlearns.push(x);
        }
    }
    for d in &evaluates {
        cx.dims.decl = d.name.name.clone();
        if let Some(x) = cx.evaluate(d) {
            exp.evaluates.push(x);
        }
    }
    for d in &reports {
        cx.dims.decl = d.name.name.clone();
        if let Some(x) = cx.report(d) {
            exp.reports.push(x);
        }
    }
    cx.dims.unused(&mut cx.errors);
    exp.imports = imports;
    exp.dims = cx
        .dims
        .defs
        .iter()
        .map(|d| Dim { name: d.name.clone(), shown: d.values.iter().map(dims::shown).collect() })
        .collect();
    // What no single declaration shows; the indices of a lowered file hold only without errors.
    if cx.errors.is_empty() {
        cx.evaluations_along(&exp);
        cx.inputs_fit(&exp);
        cx.plan_size(&exp);
    }
    if cx.errors.is_empty() {
        Ok(exp)
    } else {
        Err(once_each(cx.errors))
    }
}

/// The errors with repeats dropped: a field inherited by many declarations is checked in each
/// of them, and its problem is reported once.
fn once_each(errors: Vec<LowerError>) -> Vec<LowerError> {
    let mut seen = std::collections::HashSet::new();
    errors.into_iter().filter(|e| seen.insert(format!("{e:?}"))).collect()
}

/// Whether a relative path leaves the folder it is relative to (`../x`, `a/../../x`): report
/// paths may not leave the experiment's folder, data paths the data root. An absolute path does
/// not climb; whether one is allowed is the caller's rule.
fn climbs_out(path: &str) -> bool {
    use std::path::Component;
    let mut depth = 0i32;
    for c in std::path::Path::new(path).components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::RootDir | Component::Prefix(_) => return false,
            Component::CurDir => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}
