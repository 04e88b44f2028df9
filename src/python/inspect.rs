//! What a Python file declares, read by the interpreter's own parser without running the file
//! (`python/munl/_inspect.py`, stdlib only): its functions' keyword-only parameters are munl
//! fields, with their types and defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// The script, embedded: `munl check` runs it with `python -c`, from any folder.
const SCRIPT: &str = include_str!("../../python/munl/_inspect.py");

/// What one run of the inspector found.
#[derive(Debug, Deserialize)]
pub(crate) struct Inspected {
    /// The interpreter's version, `3.11.7`.
    pub(crate) python: String,
    /// torch's version where the interpreter has it.
    pub(crate) torch: Option<String>,
    /// By the path given.
    pub(crate) files: BTreeMap<PathBuf, PyFile>,
}

/// One file: its syntax error, or what it declares.
#[derive(Debug, Deserialize)]
pub(crate) struct PyFile {
    pub(crate) error: Option<FileError>,
    #[serde(default)]
    pub(crate) functions: BTreeMap<String, Function>,
    /// Its classes, each with its constructor (`__init__` without `self`).
    #[serde(default)]
    pub(crate) classes: BTreeMap<String, Function>,
    /// Local modules it imports, transitively (absolute paths).
    #[serde(default)]
    pub(crate) modules: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FileError {
    pub(crate) message: String,
    pub(crate) line: Option<u32>,
}

/// A top-level function.
#[derive(Debug, Deserialize)]
pub(crate) struct Function {
    pub(crate) line: u32,
    /// Its positional parameters' names.
    pub(crate) positional: Vec<String>,
    /// Its keyword-only parameters, in order.
    pub(crate) fields: Vec<Field>,
    /// Parameters munl cannot pass, each a sentence with its line.
    pub(crate) problems: Vec<String>,
}

/// A keyword-only parameter: a munl field.
#[derive(Debug, Deserialize)]
pub(crate) struct Field {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: FieldType,
    pub(crate) line: u32,
    /// Absent for a required field.
    pub(crate) default: Option<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FieldType {
    Int,
    Float,
    Bool,
    Str,
}

impl FieldType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FieldType::Int => "int",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Str => "str",
        }
    }
}

/// Reads `files` with `python` (one process for all of them). An error is about the interpreter
/// itself (not found, no JSON back); a file's own problems are in its `PyFile`.
pub(crate) fn inspect(python: &Path, files: &[PathBuf]) -> Result<Inspected, String> {
    let out = Command::new(python)
        .arg("-c")
        .arg(SCRIPT)
        .args(files)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", python.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("`{}` failed reading the file: {}", python.display(), stderr.trim()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("`{}` gave no readable answer: {e}", python.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> PathBuf {
        super::super::interpreter()
    }

    #[test]
    fn reads_fields_types_defaults_and_local_modules() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.py");
        std::fs::write(dir.path().join("helpers.py"), "import os\nfrom sub import thing\n").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/__init__.py"), "thing = 1\n").unwrap();
        std::fs::write(
            &file,
            "import torch\nimport helpers\n\ndef unlearn(model, data, *, lr: float = 1, epochs: int = 3, alpha=0.5,\n    tag: str = 'x', on: bool = False, need: int):\n    pass\n\nclass Net:\n    pass\n",
        )
        .unwrap();
        let got = inspect(&python(), std::slice::from_ref(&file)).unwrap();
        let f = &got.files[&file];
        assert!(f.error.is_none());
        let u = &f.functions["unlearn"];
        assert_eq!(u.positional, ["model", "data"]);
        let fields: Vec<(&str, FieldType, Option<String>)> =
            u.fields.iter().map(|f| (f.name.as_str(), f.ty, f.default.as_ref().map(|d| d.to_string()))).collect();
        assert_eq!(
            fields,
            [
                ("lr", FieldType::Float, Some("1.0".into())),
                ("epochs", FieldType::Int, Some("3".into())),
                ("alpha", FieldType::Float, Some("0.5".into())),
                ("tag", FieldType::Str, Some("\"x\"".into())),
                ("on", FieldType::Bool, Some("false".into())),
                ("need", FieldType::Int, None),
            ]
        );
        assert_eq!(f.classes.keys().collect::<Vec<_>>(), ["Net"]);
        assert!(f.classes["Net"].positional.is_empty(), "no constructor of its own");
        let names: Vec<String> =
            f.modules.iter().map(|m| m.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
        assert_eq!(names, ["helpers.py", "sub/__init__.py"], "torch and os are not local");
    }

    #[test]
    fn reports_what_munl_cannot_pass_and_syntax_errors() {
        let dir = tempfile::tempdir().unwrap();
        let (bad, broken) = (dir.path().join("bad.py"), dir.path().join("broken.py"));
        std::fs::write(&bad, "def unlearn(model, data, *args, lr: list = [1], k=None, **kw):\n    pass\n").unwrap();
        std::fs::write(&broken, "def unlearn(model, data:\n").unwrap();
        let got = inspect(&python(), &[bad.clone(), broken.clone()]).unwrap();
        let problems = &got.files[&bad].functions["unlearn"].problems;
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("`lr` is annotated `list`"), "{problems:?}");
        assert!(problems[1].contains("the default of `k` is NoneType"), "{problems:?}");
        let e = got.files[&broken].error.as_ref().unwrap();
        assert_eq!(e.line, Some(1));
    }
}
