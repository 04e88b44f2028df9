//! Reading a `.munl` file through parse, lower and plan, rendering diagnostics on failure.

use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::compile::{compile, Compiled};
use crate::lower::Experiment;
use crate::plan::Plan;
use crate::source::Source;

use super::{EXIT_OK, EXIT_USER};

/// A checked and planned experiment.
pub(crate) struct Loaded {
    pub(crate) source: Source,
    /// `source`, then the files it imports: a node's `source` indexes into this.
    pub(crate) sources: Vec<Source>,
    pub(crate) experiment: Experiment,
    pub(crate) plan: Plan,
}

/// The data root: `$MUNL_DATA`, else `data/` in the current folder.
pub(crate) fn data_root() -> PathBuf {
    let root = std::env::var_os("MUNL_DATA").map_or_else(|| PathBuf::from("data"), PathBuf::from);
    std::path::absolute(&root).unwrap_or(root)
}

/// Loads and plans a file, or prints every diagnostic and returns the exit code.
pub(crate) fn load(path: &Path) -> Result<Loaded, u8> {
    let source = Source::read(path).map_err(|e| super::fail(format!("cannot read `{}`: {e}", path.display())))?;
    let source = super::overrides::apply(source).map_err(super::fail)?;
    match compile(&source, &data_root()) {
        Ok(Compiled { experiment, plan, sources }) => {
            if plan.nodes.is_empty() {
                eprintln!("warning: {} declares nothing: there is nothing to check or run", source.name());
            }
            Ok(Loaded { source, sources, experiment, plan })
        }
        Err(diagnostics) => {
            for (source, d) in diagnostics.iter() {
                report(d, source);
            }
            for (name, n) in diagnostics.lowering_counts() {
                eprintln!("{n} error(s) in {name}");
            }
            Err(EXIT_USER)
        }
    }
}

/// Renders one diagnostic against the source on stderr, coloured as `--color` says.
pub(crate) fn report(diagnostic: &dyn miette::Diagnostic, source: &Source) {
    eprint!("{}", crate::diag::render(diagnostic, source, super::colour::stderr()));
}

/// Opens the cache folder.
pub(crate) fn cache(root: &Path) -> Result<Cache, u8> {
    Cache::open(root).map_err(|e| {
        super::fail(format!(
            "{e}\n  help: the cache must be a folder you can write; point `--cache` or MUNL_CACHE at one"
        ))
    })
}

/// Loads and plans a file and opens the cache: what `plan`, `run` and `show` start with.
pub(crate) fn load_with_cache(file: &Path, cache_root: &Path) -> Result<(Loaded, Cache), u8> {
    let loaded = load(file)?;
    Ok((loaded, cache(cache_root)?))
}

/// `munl check FILE`
pub(crate) fn check(path: &Path) -> u8 {
    match load(path) {
        Ok(l) => {
            let exp = &l.experiment;
            let imported = exp.imports.iter().map(|i| i.experiment.declarations()).sum::<usize>();
            let detail = if exp.imports.is_empty() {
                format!("{} seed(s)", exp.seeds.len())
            } else {
                format!("{} imported file(s) with {imported} declarations", exp.imports.len())
            };
            println!(
                "{}: ok, {} declarations, {detail}, {} nodes",
                l.source.name(),
                exp.declarations(),
                l.plan.nodes.len()
            );
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// `munl check FILE --json`: every problem as one JSON array on stdout (`[]` for a file without
/// any), each as `diag::to_json` writes it; exit 1 if any is an error. A file that cannot be
/// read (or a `--set` that does not apply) is one error without labels; a file that declares
/// nothing, one warning.
pub(crate) fn check_json(path: &Path) -> u8 {
    let spanless = |severity: &str, message: String| {
        serde_json::json!({
            "file": path.display().to_string(),
            "severity": severity,
            "code": null,
            "message": message,
            "help": null,
            "labels": [],
        })
    };
    let source = Source::read(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
        .and_then(super::overrides::apply);
    let problems = match source {
        Err(e) => vec![spanless("error", e)],
        Ok(source) => match compile(&source, &data_root()) {
            Ok(Compiled { plan, .. }) if plan.nodes.is_empty() => {
                vec![spanless("warning", "declares nothing: there is nothing to check or run".into())]
            }
            Ok(_) => vec![],
            Err(diagnostics) => diagnostics.iter().into_iter().map(|(s, d)| crate::diag::to_json(d, s)).collect(),
        },
    };
    let failed = problems.iter().any(|p| p["severity"] == "error");
    println!("{}", serde_json::Value::Array(problems));
    if failed {
        EXIT_USER
    } else {
        EXIT_OK
    }
}

/// Resolves target names, or reports unknown ones.
pub(crate) fn targets(plan: &Plan, names: &[String]) -> Result<Vec<crate::plan::NodeId>, u8> {
    if names.is_empty() {
        return Ok(plan.default_targets());
    }
    let mut out = vec![];
    for name in names {
        match plan.target(name) {
            Some(ids) => out.extend(ids),
            None => {
                let help = crate::diag::did_you_mean(name, plan.decls.keys().map(String::as_str))
                    .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                return Err(super::fail(format!("no declaration or node is called `{name}`{help}")));
            }
        }
    }
    Ok(out)
}
