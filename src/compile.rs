//! The one way from text to plan: parse, lower, plan. Returns the plan or the diagnostics of
//! the first phase that failed, as data; only the CLI (or a test) renders them.

use std::path::{Path, PathBuf};

use crate::lower::{Experiment, LowerError};
use crate::plan::Plan;
use crate::source::Source;
use crate::syntax::SyntaxError;

/// A checked and planned `.munl` file.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) experiment: Experiment,
    pub(crate) plan: Plan,
}

/// Every problem of the phase that stopped compilation, as data.
#[derive(Debug)]
pub struct Diagnostics(Phase);

#[derive(Debug)]
enum Phase {
    Syntax(Vec<SyntaxError>),
    Lower(Vec<LowerError>),
}

impl Diagnostics {
    /// Each diagnostic, for rendering.
    pub(crate) fn iter(&self) -> Vec<&dyn miette::Diagnostic> {
        match &self.0 {
            Phase::Syntax(errors) => errors.iter().map(|e| e as &dyn miette::Diagnostic).collect(),
            Phase::Lower(errors) => errors.iter().map(|e| e as &dyn miette::Diagnostic).collect(),
        }
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.iter().len()
    }

    /// Never true: compilation fails with at least one problem.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lowering problems are counted in a summary line; a syntax error speaks for itself.
    pub(crate) fn is_lowering(&self) -> bool {
        matches!(self.0, Phase::Lower(_))
    }
}

/// Parses, lowers and plans `source`. Report paths resolve against the source's folder, dataset
/// folders against `data_root`.
pub(crate) fn compile(source: &Source, data_root: &Path) -> Result<Compiled, Diagnostics> {
    let file = crate::syntax::parse(source).map_err(|e| Diagnostics(Phase::Syntax(e)))?;
    let experiment = crate::lower::lower(&file, &base_dir(&source.path)).map_err(|e| Diagnostics(Phase::Lower(e)))?;
    let plan = crate::plan::plan(&experiment, data_root);
    Ok(Compiled { experiment, plan })
}

/// The folder a file's relative paths are relative to: its own, made absolute.
fn base_dir(path: &Path) -> PathBuf {
    std::path::absolute(path).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_else(|| PathBuf::from("."))
}
