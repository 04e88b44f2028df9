//! Python ops: `unlearn mine = python("methods/mine.py")(original) { lr = 0.01 }`.
//!
//! The file is read once per `.munl` file, by the interpreter's own parser and without running
//! it (`crate::python::inspect`), for its function's keyword-only parameters: they are the
//! method's fields, typed by annotation or default, and the block is checked against them as
//! against a catalogue entry (unknown fields with suggestions, types, required fields). The code
//! is fingerprinted with the local modules it imports and the Python and torch versions; the
//! fingerprint is a field of the node (`@code`), so editing the file re-runs exactly its nodes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use crate::ops::{self, Category, Default, Export, FieldSpec, OpSpec, Ty, Value};
use crate::python::{self, FieldType, Inspected};
use crate::span::Span;
use crate::syntax::ast::{Arg, Decl, DeclKind, Expr, ExprKind};

use super::cx::Cx;
use super::{LowerError, PyCode};

/// The field holding the code's fingerprint (a name no Python parameter can have).
pub(crate) const CODE: &str = "@code";
/// The field naming the function the file defines.
pub(crate) const FUNCTION: &str = "@function";
/// The field naming a custom architecture's class.
pub(crate) const CLASS: &str = "@class";
/// The function a method file defines unless `function:` names another.
const DEFAULT_FUNCTION: &str = "unlearn";

/// The Python files of a `.munl` file, read in one run of the interpreter.
pub(super) struct PythonFiles {
    base_dir: PathBuf,
    read: Option<Result<Inspected, String>>,
}

impl PythonFiles {
    /// Reads every file a `python("…")` head of `decls` names (nothing when there is none: no
    /// interpreter is started for files without Python ops).
    pub(super) fn read(decls: &[&Decl], base_dir: &Path) -> PythonFiles {
        let mut files: Vec<PathBuf> = decls
            .iter()
            .filter(|d| matches!(d.kind, DeclKind::Unlearn | DeclKind::Model))
            .filter_map(|d| d.head.as_ref())
            .filter_map(python_path)
            .map(|(p, _)| base_dir.join(p))
            .collect();
        files.sort();
        files.dedup();
        let read = (!files.is_empty()).then(|| python::inspect(&python::interpreter(), &files));
        PythonFiles { base_dir: base_dir.to_path_buf(), read }
    }
}

impl PythonFiles {
    /// What was read of `path` (relative to the `.munl` file's folder): `Ok(None)` when nothing
    /// was read (no interpreter run), an error when the file (or the interpreter) failed.
    fn file(&self, path: &str, span: Span) -> Result<Option<(&Inspected, &python::PyFile)>, Box<LowerError>> {
        let bad =
            |reason: String, help: Option<String>| LowerError::BadPython { path: path.to_string(), reason, span, help };
        match &self.read {
            Some(Ok(inspected)) => {
                let Some(read) = inspected.files.get(&self.base_dir.join(path)) else { return Ok(None) };
                match &read.error {
                    Some(e) => {
                        let at = e.line.map_or(String::new(), |l| format!(" (line {l})"));
                        let help = e.line.is_none().then(|| "the path is relative to this `.munl` file's folder".to_string());
                        Err(Box::new(bad(format!("{}{at}", e.message), help)))
                    }
                    None => Ok(Some((inspected, read))),
                }
            }
            Some(Err(e)) => Err(Box::new(bad(
                format!("cannot be read: {e}"),
                Some("munl reads Python files with `$MUNL_PYTHON`, else `python3` on the PATH (scripts/with-torch sets up one with torch)".into()),
            ))),
            None => Ok(None),
        }
    }
}

impl PythonFiles {
    /// Checks a function's (or a constructor's) parameters, `positional` of them (else `arity`:
    /// the reason and the help) and then fields munl can pass, and fingerprints its file.
    #[allow(clippy::too_many_arguments)]
    fn checked_code(
        &self,
        path: &str,
        span: Span,
        f: &python::Function,
        positional: usize,
        arity: (String, String),
        inspected: &Inspected,
        read: &python::PyFile,
    ) -> Result<String, Box<LowerError>> {
        let bad = |reason: String, help: Option<String>| {
            Box::new(LowerError::BadPython { path: path.to_string(), reason, span, help })
        };
        if f.positional.len() != positional {
            return Err(bad(arity.0, Some(arity.1)));
        }
        if let Some(problem) = f.problems.first() {
            let help = "a field is a keyword-only parameter typed int, float, bool or str, with a literal default";
            return Err(bad(problem.clone(), Some(help.into())));
        }
        let file = self.base_dir.join(path);
        python::fingerprint(&file, &read.modules, &inspected.python, inspected.torch.as_deref())
            .map_err(|e| bad(format!("cannot be read: {e}"), None))
    }
}

/// The path of `python("path", …)` or `python("path", …)(…)`, with its span.
fn python_path(head: &Expr) -> Option<(&str, Span)> {
    let call = match &head.kind {
        ExprKind::Applied { head, .. } => head,
        _ => head,
    };
    let ExprKind::Call { callee, args } = &call.kind else { return None };
    if callee.name != "python" {
        return None;
    }
    match args.first().map(|a| (&a.name, &a.value.kind)) {
        Some((None, ExprKind::Str(path))) => Some((path, args[0].value.span)),
        _ => None,
    }
}

/// A Python op's fields as a catalogue entry (a method's, or a model class's), built once per
/// (code, function) and kept for the process (lowering borrows entries for as long as the
/// catalogue's own).
fn op_spec(category: Category, code: &str, path: &str, function: &str, fields: &[python::Field]) -> &'static OpSpec {
    static SPECS: OnceLock<Mutex<HashMap<(String, String), &'static OpSpec>>> = OnceLock::new();
    let mut specs = SPECS.get_or_init(|| Mutex::new(HashMap::new())).lock().unwrap_or_else(|e| e.into_inner());
    let key = (code.to_string(), format!("{category:?}\0{path}\0{function}"));
    if let Some(spec) = specs.get(&key) {
        return spec;
    }
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let fields: Vec<FieldSpec> = fields
        .iter()
        .map(|f| {
            let ty = match f.ty {
                FieldType::Int => Ty::Int { min: -ops::limits::PYTHON_INT.max, max: ops::limits::PYTHON_INT },
                FieldType::Float => Ty::Float { min: -f64::MAX, max: ops::limits::FINITE },
                FieldType::Bool => Ty::Bool,
                FieldType::Str => Ty::Str,
            };
            let default = match (&f.default, f.ty) {
                (None, _) => Default::Required,
                (Some(v), FieldType::Int) => v.as_i64().map_or(Default::Required, Default::Int),
                (Some(v), FieldType::Float) => v.as_f64().map_or(Default::Required, Default::Float),
                (Some(v), FieldType::Bool) => v.as_bool().map_or(Default::Required, Default::Bool),
                (Some(v), FieldType::Str) => v.as_str().map_or(Default::Required, |s| Default::Str(leak(s))),
            };
            let doc = leak(&format!("{}, line {} of {path}", f.ty.as_str(), f.line));
            FieldSpec { name: leak(&f.name), ty, default, space: None, doc, reference: None }
        })
        .collect();
    let spec: &'static OpSpec = Box::leak(Box::new(OpSpec {
        name: "python",
        category,
        version: ops::version(category, "python"),
        doc: "written in Python",
        quirks: &[],
        positional: &[],
        fields: Box::leak(fields.into_boxed_slice()),
        export: Export::KEEP,
    }));
    specs.insert(key, spec);
    spec
}

/// What lowering takes from a Python method head.
pub(super) struct PythonMethod<'e> {
    pub(super) spec: &'static OpSpec,
    /// The head as written, for messages: `python("methods/mine.py")`.
    pub(super) shown: String,
    pub(super) code: PyCode,
    /// The applied arguments: the `train` declaration.
    pub(super) args: &'e [Arg],
    pub(super) span: Span,
}

impl<'a> Cx<'a> {
    /// `python("file.py", function: "name")(train)`: the file read, its function's fields as an
    /// entry, and the code's fingerprint; `None` after reporting why not.
    pub(super) fn python_method<'e>(&mut self, head: &'e Expr) -> Option<PythonMethod<'e>> {
        let ExprKind::Applied { head: call, args: applied } = &head.kind else {
            self.errors.push(LowerError::WrongType {
                field: "python".into(),
                expected: "a Python method applied to its `train` declaration".into(),
                span: head.span,
                found: super::value::describe(head),
                help: Some("e.g. `python(\"methods/mine.py\")(original)`".into()),
            });
            return None;
        };
        let ExprKind::Call { args, .. } = &call.kind else { return None };
        let Some((path, path_span)) = python_path(call) else {
            self.errors.push(LowerError::WrongType {
                field: "python".into(),
                expected: "the Python file's path as a string first".into(),
                span: call.span,
                found: args.first().map_or("no argument".into(), |a| super::value::describe(&a.value)),
                help: Some("e.g. `python(\"methods/mine.py\")(original)`".into()),
            });
            return None;
        };
        let mut function = DEFAULT_FUNCTION.to_string();
        for a in &args[1..] {
            match (&a.name, &a.value.kind) {
                (Some(n), ExprKind::Str(f)) if n.name == "function" => function = f.clone(),
                _ => self.errors.push(LowerError::UnknownField {
                    field: a.name.as_ref().map_or("(positional)".into(), |n| n.name.clone()),
                    context: "`python(…)`".into(),
                    span: a.span,
                    help: Some("`python(\"file.py\")` takes the file and optionally `function: \"name\"` (default `unlearn`); the method's fields go in the block".into()),
                }),
            }
        }
        let bad = |reason: String, help: Option<String>| LowerError::BadPython {
            path: path.to_string(),
            reason,
            span: path_span,
            help,
        };
        let (inspected, read) = match self.python.file(path, path_span) {
            Ok(found) => found?,
            Err(e) => {
                self.errors.push(*e);
                return None;
            }
        };
        let file = self.python.base_dir.join(path);
        let Some(f) = read.functions.get(&function) else {
            let known: Vec<String> = read.functions.keys().map(|k| format!("`{k}`")).collect();
            let help = if known.is_empty() {
                format!("define `def {function}(model, data, *, lr: float = 0.01): …`")
            } else {
                format!("it defines {}; name another with `python(\"{path}\", function: \"…\")`", known.join(", "))
            };
            self.errors.push(bad(format!("defines no function `{function}`"), Some(help)));
            return None;
        };
        let arity = (
            format!("`{function}` (line {}) takes {} positional parameter(s), not 2", f.line, f.positional.len()),
            format!(
                "munl calls `{function}(model, data, **fields)`: two positional parameters, then the fields after `*` (`def {function}(model, data, *, lr: float = 0.01)`)"
            ),
        );
        let code = match self.python.checked_code(path, path_span, f, 2, arity, inspected, read) {
            Ok(code) => code,
            Err(e) => {
                self.errors.push(*e);
                return None;
            }
        };
        let spec = op_spec(Category::Method, &code, path, &function, &f.fields);
        let shown = match function.as_str() {
            DEFAULT_FUNCTION => format!("python(\"{path}\")"),
            other => format!("python(\"{path}\", function: \"{other}\")"),
        };
        Some(PythonMethod {
            spec,
            shown,
            code: PyCode { file, function, digest: code },
            args: applied,
            span: head.span,
        })
    }
}

/// A custom architecture: `model net = python("models/net.py", class: "Net") { width = 16 }`.
pub(super) struct PythonModel {
    pub(super) spec: &'static OpSpec,
    pub(super) shown: String,
    pub(super) code: PyCode,
    /// The arguments after the path and `class:`, with the block's fields: the class's fields.
    pub(super) args: Vec<Arg>,
}

impl<'a> Cx<'a> {
    /// `python("file.py", class: "Net", field: value, …)`: the file read, the class's
    /// constructor fields as an entry and the code's fingerprint; `None` after reporting why not.
    pub(super) fn python_model(&mut self, head: &Expr) -> Option<PythonModel> {
        let ExprKind::Call { args, .. } = &head.kind else {
            self.errors.push(LowerError::WrongType {
                field: "python".into(),
                expected: "a call naming the file and the class".into(),
                span: head.span,
                found: super::value::describe(head),
                help: Some("e.g. `model net = python(\"models/net.py\", class: \"Net\")`".into()),
            });
            return None;
        };
        let Some((path, path_span)) = python_path(head) else {
            self.errors.push(LowerError::WrongType {
                field: "python".into(),
                expected: "the Python file's path as a string first".into(),
                span: head.span,
                found: args.first().map_or("no argument".into(), |a| super::value::describe(&a.value)),
                help: Some("e.g. `model net = python(\"models/net.py\", class: \"Net\")`".into()),
            });
            return None;
        };
        let class = args[1..].iter().find_map(|a| match (&a.name, &a.value.kind) {
            (Some(n), ExprKind::Str(c)) if n.name == "class" => Some(c.clone()),
            _ => None,
        });
        let rest: Vec<Arg> =
            args[1..].iter().filter(|a| a.name.as_ref().is_none_or(|n| n.name != "class")).cloned().collect();
        let bad = |reason: String, help: Option<String>| LowerError::BadPython {
            path: path.to_string(),
            reason,
            span: path_span,
            help,
        };
        let Some(class) = class else {
            self.errors.push(bad("names no class".into(), Some(format!("e.g. `python(\"{path}\", class: \"Net\")`"))));
            return None;
        };
        let (inspected, read) = match self.python.file(path, path_span) {
            Ok(found) => found?,
            Err(e) => {
                self.errors.push(*e);
                return None;
            }
        };
        let Some(c) = read.classes.get(&class) else {
            let known: Vec<String> = read.classes.keys().map(|k| format!("`{k}`")).collect();
            let help = if known.is_empty() {
                "it defines no class".to_string()
            } else {
                format!("it defines {}", known.join(", "))
            };
            self.errors.push(bad(format!("defines no class `{class}`"), Some(help)));
            return None;
        };
        let arity = (
            format!(
                "`{class}`'s constructor (line {}) takes {} positional parameter(s) besides `self`, not 1",
                c.line,
                c.positional.len()
            ),
            format!("munl constructs `{class}(num_classes, **fields)`: `def __init__(self, num_classes, *, width: int = 16)`"),
        );
        let code = match self.python.checked_code(path, path_span, c, 1, arity, inspected, read) {
            Ok(code) => code,
            Err(e) => {
                self.errors.push(*e);
                return None;
            }
        };
        let file = self.python.base_dir.join(path);
        let spec = op_spec(Category::Arch, &code, path, &class, &c.fields);
        Some(PythonModel {
            spec,
            shown: format!("python(\"{path}\", class: \"{class}\")"),
            code: PyCode { file, function: class, digest: code },
            args: rest,
        })
    }
}

/// The fields that say which code a node runs, added to its typed fields.
pub(super) fn code_fields(code: &PyCode) -> [(String, Value); 2] {
    [(CODE.into(), Value::Str(code.digest.clone())), (FUNCTION.into(), Value::Str(code.function.clone()))]
}
