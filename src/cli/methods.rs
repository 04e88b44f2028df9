//! `munl methods [NAME]`: the catalogue and the declarations with fields, types, defaults and
//! search spaces;
//! `munl methods FILE.py`: the methods a Python file defines, as `munl check` reads them.

use std::fmt::Write as _;

use crate::ops::{self, Absent, Category, DeclSpec, OpSpec};

use super::{EXIT_OK, EXIT_USER};

/// `munl methods [NAME] [--all]`: NAME is an op, a declaration keyword (`dataset`, `report`)
/// or a setting (`seeds`); `--all` lists the declarations, then every op.
pub(crate) fn methods(name: Option<&str>, all: bool) -> u8 {
    if let Some(file) = name.filter(|n| n.ends_with(".py")) {
        return python_methods(std::path::Path::new(file));
    }
    let (decls, ops): (Vec<&DeclSpec>, Vec<&OpSpec>) = match name {
        Some(n) => {
            let decls: Vec<&DeclSpec> = ops::DECLARATIONS
                .iter()
                .filter(|d| d.keyword == n || (d.keyword == "settings" && d.fields.iter().any(|f| f.name == n)))
                .collect();
            let ops: Vec<&OpSpec> = ops::all().filter(|o| o.name == n && !shown_by(&decls, o)).collect();
            if decls.is_empty() && ops.is_empty() {
                let names = ops::DECLARATIONS.iter().map(|d| d.keyword).chain(ops::all().map(|o| o.name));
                let help =
                    crate::diag::did_you_mean(n, names).map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                eprintln!("error: no method, operation or declaration is called `{n}`{help}");
                return EXIT_USER;
            }
            (decls, ops)
        }
        None if all => {
            let decls: Vec<&DeclSpec> = ops::DECLARATIONS.iter().collect();
            let ops = ops::all().filter(|o| !shown_by(&decls, o)).collect();
            (decls, ops)
        }
        None => (vec![], ops::in_category(Category::Method).collect()),
    };
    let mut out = String::new();
    for d in decls {
        describe_declaration(d, &mut out);
    }
    for op in ops {
        describe(op, &mut out);
    }
    print!("{out}");
    EXIT_OK
}

/// Whether one of `decls` lists the op's fields as its own (`train`'s recipe).
fn shown_by(decls: &[&DeclSpec], op: &OpSpec) -> bool {
    decls.iter().any(|d| d.op == Some((op.category, op.name)))
}

/// One field as a row: name, type, default (or `required`), help.
fn row(out: &mut String, name: &str, ty: &str, default: &str, doc: &str) {
    let _ = writeln!(out, "  {name:<18} {ty:<24} {default:<12} {doc}");
}

/// A default as a file writes it: a bare word unquoted, a call with its fields.
fn default_text(d: ops::Default) -> String {
    match d {
        ops::Default::Word(w) => format!("= {w}"),
        d => d.value().map_or("required".into(), |v| format!("= {v}")),
    }
}

fn describe_declaration(d: &DeclSpec, out: &mut String) {
    let what = if d.keyword == "settings" { "the file's settings" } else { "a declaration" };
    let _ = writeln!(out, "{} ({what})", d.keyword);
    let _ = writeln!(out, "  {}", d.doc);
    for line in d.form.lines() {
        let _ = writeln!(out, "    {line}");
    }
    for f in d.fields {
        let (default, doc) = match f.absent {
            Absent::Required => ("required".to_string(), f.doc.to_string()),
            Absent::Default(v) => (default_text(v), f.doc.to_string()),
            Absent::Written(w) => (format!("= {w}"), f.doc.to_string()),
            Absent::Means(m) => ("optional".to_string(), format!("{} (unset: {m})", f.doc)),
        };
        row(out, f.name, f.ty, &default, &doc);
    }
    if let Some(op) = d.op.and_then(|(c, name)| ops::find(c, name)) {
        fields(op, out);
    }
    if let Some(c) = d.calls {
        let names: Vec<&str> = ops::in_category(c).map(|o| o.name).collect();
        let _ = writeln!(out, "  and the fields of its {}: {} (`munl methods NAME`)", c.noun(), names.join(", "));
    }
    out.push('\n');
}

fn describe(op: &OpSpec, out: &mut String) {
    let _ = writeln!(out, "{} ({}, version {})", op.name, op.category.describe(), op.version);
    for line in op.doc.lines() {
        let _ = writeln!(out, "  {line}");
    }
    fields(op, out);
    for quirk in op.quirks {
        let _ = writeln!(out, "  quirk: {quirk}");
    }
    out.push('\n');
}

/// An op's fields as rows, with their search spaces.
fn fields(op: &OpSpec, out: &mut String) {
    for f in op.fields {
        let doc = match f.space {
            Some(space) => format!("{}; search: {space}", f.doc),
            None => f.doc.to_string(),
        };
        row(out, f.name, &f.ty.short(), &default_text(f.default), &doc);
    }
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
