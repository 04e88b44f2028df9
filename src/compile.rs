//! The one way from text to plan: parse, lower, plan. Returns the plan or the diagnostics of
//! the first phase that failed, as data; only the CLI (or a test) renders them.
//!
//! A file's `import "other.munl" as x` lines are compiled first, each on its own (parse and
//! lower, recursively), so that lowering the importing file can resolve `x.NAME`. Every source
//! read is kept: a node or a diagnostic points into one of them by index.

use std::path::{Path, PathBuf};

use crate::lower::{Experiment, Imported, LowerError};
use crate::plan::Plan;
use crate::source::Source;
use crate::syntax::ast::Item;
use crate::syntax::SyntaxError;

/// A checked and planned `.munl` file.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) experiment: Experiment,
    pub(crate) plan: Plan,
    /// The file compiled, then every file it imports (directly or not) in the order they were
    /// read: `Node::source` and `Experiment::source` index into this.
    pub(crate) sources: Vec<Source>,
}

/// Every problem of the phase that stopped compilation, as data: per file involved (an
/// imported file's own problems, then the importing file's), with the file.
#[derive(Debug)]
pub struct Diagnostics(Vec<(Source, Phase)>);

#[derive(Debug)]
enum Phase {
    Syntax(Vec<SyntaxError>),
    Lower(Vec<LowerError>),
}

impl Phase {
    fn iter(&self) -> Vec<&dyn miette::Diagnostic> {
        match self {
            Phase::Syntax(errors) => errors.iter().map(|e| e as &dyn miette::Diagnostic).collect(),
            Phase::Lower(errors) => errors.iter().map(|e| e as &dyn miette::Diagnostic).collect(),
        }
    }
}

impl Diagnostics {
    /// Each diagnostic with the file it points into, for rendering.
    pub(crate) fn iter(&self) -> Vec<(&Source, &dyn miette::Diagnostic)> {
        self.0.iter().flat_map(|(source, phase)| phase.iter().into_iter().map(move |d| (source, d))).collect()
    }

    /// How many problems there are.
    pub fn len(&self) -> usize {
        self.iter().len()
    }

    /// Never true: compilation fails with at least one problem.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Per file with lowering problems, its name and how many: lowering problems are counted in
    /// a summary line; a syntax error speaks for itself.
    pub(crate) fn lowering_counts(&self) -> Vec<(String, usize)> {
        self.0
            .iter()
            .filter_map(|(source, phase)| match phase {
                Phase::Lower(errors) => Some((source.name(), errors.len())),
                Phase::Syntax(_) => None,
            })
            .collect()
    }
}

/// Parses, lowers and plans `source` and the files it imports. Report paths resolve against the
/// source's folder, dataset folders against `data_root`.
pub(crate) fn compile(source: &Source, data_root: &Path) -> Result<Compiled, Diagnostics> {
    let mut loader = Loader { sources: vec![source.clone()], importing: vec![], data_root: data_root.to_path_buf() };
    let experiment = loader.lower(0)?;
    let plan = crate::plan::plan(&experiment, data_root);
    Ok(Compiled { experiment, plan, sources: loader.sources })
}

/// Reads and lowers files, imports first.
struct Loader {
    sources: Vec<Source>,
    /// The files being imported, outermost first, as absolute paths: an import of one of them
    /// is a cycle.
    importing: Vec<PathBuf>,
    /// Where relative dataset paths resolve; lowering checks that the data is there.
    data_root: PathBuf,
}

impl Loader {
    /// Parses and lowers source `index`, its imports first.
    fn lower(&mut self, index: usize) -> Result<Experiment, Diagnostics> {
        let source = self.sources[index].clone();
        let file = crate::syntax::parse(&source).map_err(|e| Diagnostics(vec![(source.clone(), Phase::Syntax(e))]))?;
        let dir = base_dir(&source.path);
        self.importing.push(identity(&source.path));
        let mut imports = vec![];
        let mut broken = vec![];
        let mut inner = vec![];
        let mut errors = vec![];
        for item in &file.items {
            let Item::Import(import) = item else { continue };
            // As the importing file's path was given (relative stays relative), for messages.
            let path = source.path.parent().unwrap_or(Path::new("")).join(&import.path);
            let bad = |reason: String, help: Option<String>| LowerError::BadImport {
                path: import.path.clone(),
                reason,
                span: import.path_span,
                help,
            };
            if self.importing.contains(&identity(&path)) {
                let help = "a file cannot import itself, directly or through the files it imports";
                errors.push(bad("it imports this file: a cycle".into(), Some(help.into())));
                broken.push(import.alias.name.clone());
                continue;
            }
            match Source::read(&path) {
                Ok(read) => self.sources.push(read),
                Err(e) => {
                    let folder = source.path.parent().filter(|p| !p.as_os_str().is_empty());
                    let help = match folder {
                        Some(folder) => format!("the path is relative to this file's folder, `{}`", folder.display()),
                        None => "the path is relative to this file's folder".into(),
                    };
                    errors.push(bad(format!("{e}"), Some(help)));
                    broken.push(import.alias.name.clone());
                    continue;
                }
            }
            match self.lower(self.sources.len() - 1) {
                Ok(experiment) => {
                    imports.push(Imported { alias: import.alias.name.clone(), path: import.path.clone(), experiment });
                }
                Err(Diagnostics(theirs)) => {
                    let n: usize = theirs.iter().map(|(_, p)| p.iter().len()).sum();
                    errors.push(bad(format!("it has {n} error(s), shown above"), None));
                    broken.push(import.alias.name.clone());
                    inner.extend(theirs);
                }
            }
        }
        self.importing.pop();
        // Lowered even when an import failed, so that every error shows at once; names in a
        // broken import are not reported again.
        match crate::lower::lower(&file, &dir, &self.data_root, index, imports, &broken) {
            Ok(experiment) if errors.is_empty() => Ok(experiment),
            result => {
                errors.extend(result.err().unwrap_or_default());
                inner.push((source, Phase::Lower(errors)));
                Err(Diagnostics(inner))
            }
        }
    }
}

/// The folder a file's relative paths are relative to: its own, made absolute.
fn base_dir(path: &Path) -> PathBuf {
    std::path::absolute(path).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_else(|| PathBuf::from("."))
}

/// What identifies a file for cycle detection: its canonical path where it exists, else its
/// absolute one.
fn identity(path: &Path) -> PathBuf {
    path.canonicalize().or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.to_path_buf())
}
