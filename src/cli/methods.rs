//! `munl methods [NAME]`: the catalogue with fields, defaults and search spaces;
//! `munl methods FILE.py`: the methods a Python file defines, as `munl check` reads them.

use std::fmt::Write as _;

use crate::ops::{self, Category, OpSpec};

use super::{EXIT_OK, EXIT_USER};

/// `munl methods [NAME] [--all]`
pub(crate) fn methods(name: Option<&str>, all: bool) -> u8 {
    if let Some(file) = name.filter(|n| n.ends_with(".py")) {
        return python_methods(std::path::Path::new(file));
    }
    let ops: Vec<&OpSpec> = match name {
        Some(n) => {
            let found: Vec<&OpSpec> = ops::all().filter(|o| o.name == n).collect();
            if found.is_empty() {
                let help = crate::diag::did_you_mean(n, ops::all().map(|o| o.name))
                    .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                eprintln!("error: no method or operation is called `{n}`{help}");
                return EXIT_USER;
            }
            found
        }
        None if all => ops::all().collect(),
        None => ops::in_category(Category::Method).collect(),
    };
    let mut out = String::new();
    for op in ops {
        describe(op, &mut out);
    }
    print!("{out}");
    EXIT_OK
}

fn describe(op: &OpSpec, out: &mut String) {
    let _ = writeln!(out, "{} ({}, version {})", op.name, op.category.describe(), op.version);
    for line in op.doc.lines() {
        let _ = writeln!(out, "  {line}");
    }
    for f in op.fields {
        let default = match f.default.value() {
            Some(v) => format!("= {v}"),
            None => "required".into(),
        };
        let _ = write!(out, "  {:<20} {:<12} {}", f.name, default, f.doc);
        if let Some(space) = f.space {
            let _ = write!(out, "; search: {space}");
        }
        out.push('\n');
    }
    for quirk in op.quirks {
        let _ = writeln!(out, "  quirk: {quirk}");
    }
    out.push('\n');
}

/// `munl methods FILE.py`: every function of the file munl can call as a method
/// (`def f(model, data, *, field: type = default, …)`), with its fields, read without running
/// the file; functions munl cannot call say why.
fn python_methods(file: &std::path::Path) -> u8 {
    let python = crate::python::interpreter();
    let read = match crate::python::inspect(&python, &[file.to_path_buf()]) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USER;
        }
    };
    let Some(f) = read.files.values().next() else { return EXIT_USER };
    if let Some(e) = &f.error {
        let at = e.line.map_or(String::new(), |l| format!(" (line {l})"));
        eprintln!("error: {}: {}{at}", file.display(), e.message);
        return EXIT_USER;
    }
    let mut out = String::new();
    let torch = read.torch.as_deref().map_or("no torch".to_string(), |v| format!("torch {v}"));
    let _ = writeln!(out, "{} (Python {}, {torch})", file.display(), read.python);
    let methods: Vec<_> = f.functions.iter().filter(|(_, f)| f.positional.len() == 2).collect();
    if methods.is_empty() {
        let _ = writeln!(out, "  no methods: munl calls `def unlearn(model, data, *, lr: float = 0.01, …)`");
    }
    for (name, m) in methods {
        let head = if name == "unlearn" {
            format!("python(\"{}\")(original)", file.display())
        } else {
            format!("python(\"{}\", function: \"{name}\")(original)", file.display())
        };
        let _ = writeln!(out, "\n{name} (line {}): {head}", m.line);
        for field in &m.fields {
            let default = field.default.as_ref().map_or("required".to_string(), |d| format!("= {d}"));
            let _ = writeln!(out, "  {:<20} {:<6} {default}", field.name, field.ty.as_str());
        }
        for problem in &m.problems {
            let _ = writeln!(out, "  problem: {problem}");
        }
    }
    if !f.modules.is_empty() {
        let folder = file.parent().unwrap_or(std::path::Path::new(""));
        let names: Vec<String> = f
            .modules
            .iter()
            .map(|m| m.strip_prefix(std::path::absolute(folder).unwrap_or_default()).unwrap_or(m).display().to_string())
            .collect();
        let _ = writeln!(out, "\nlocal modules in its key: {}", names.join(", "));
    }
    print!("{out}");
    EXIT_OK
}
