//! `munl methods [NAME]`: the catalogue with fields, defaults and search spaces.

use std::fmt::Write as _;

use crate::ops::{self, Category, OpSpec};

use super::{EXIT_OK, EXIT_USER};

/// `munl methods [NAME] [--all]`
pub(crate) fn methods(name: Option<&str>, all: bool) -> u8 {
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
