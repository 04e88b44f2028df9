//! `munl freeze FILE NAME`: writes a tuned method's best values into its block, in place of
//! its search, so that the file says what the runs use. Only the block changes; every comment
//! stays, and a formatted file stays formatted.

use std::path::Path;

use crate::ops::Value;
use crate::plan::{NodeKind, Payload};
use crate::syntax::ast::{DeclKind, Field, Item};

use super::edit::on_own_line;
use super::load::load_with_cache;
use super::{fail, EXIT_OK};

/// `munl freeze FILE NAME [--dry-run]`
pub(crate) fn freeze(file: &Path, cache_root: &Path, name: &str, dry_run: bool) -> u8 {
    if !super::overrides::current().is_empty() {
        return fail("`munl freeze` rewrites the file: `--set` would be written into it; edit the file instead");
    }
    let (loaded, cache) = match load_with_cache(file, cache_root) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let plan = &loaded.plan;
    // The first run of the declaration: every run of a method takes the same pooled searches'
    // best (a search per searched seed), so any run's values are the declaration's.
    let Some(node) =
        plan.target(name).into_iter().flatten().map(|id| plan.node(id)).find(|n| n.kind() == NodeKind::Unlearn)
    else {
        return fail(format!("`{name}` is not an `unlearn` declaration of {}", file.display()));
    };
    let Payload::Unlearn { export: Some(export), .. } = &node.payload else {
        return fail(format!("`{name}` has no `tune = search(…)`: there is nothing to freeze"));
    };
    let searches: Vec<&crate::plan::Node> =
        node.inputs.iter().filter(|(r, _)| r.starts_with("search/")).map(|(_, id)| plan.node(*id)).collect();
    let Some(dirs) = searches.iter().map(|s| cache.lookup(&s.key).map(|e| e.dir)).collect::<Option<Vec<_>>>() else {
        return fail(format!(
            "the searches of `{name}` have not run: `munl run {} {name}` runs them first",
            file.display()
        ));
    };
    let dirs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
    let best = match crate::exec::best_values(&node.op, *export, &dirs) {
        Ok(b) => b,
        Err(e) => return fail(format!("`{name}`: {}", e.message)),
    };
    let searched: Vec<String> = searches
        .iter()
        .find_map(|s| match &s.payload {
            Payload::Search(spec) => Some(spec.space.iter().map(|(f, _)| f.clone()).collect()),
            _ => None,
        })
        .unwrap_or_default();
    let text = &loaded.source.text;
    let frozen = match rewrite(text, name, &best, &searched) {
        Ok(t) => t,
        Err(why) => return fail(why),
    };
    // A file in munl's layout stays in it.
    let frozen = match crate::syntax::format(text) {
        Ok(formatted) if formatted == *text => crate::syntax::format(&frozen).unwrap_or(frozen),
        _ => frozen,
    };
    let values: Vec<String> = best.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    if dry_run {
        print!("{frozen}");
        return EXIT_OK;
    }
    if let Err(e) = super::fmt_cmd::replace(file, &frozen) {
        return fail(format!("cannot write `{}`: {e}", file.display()));
    }
    eprintln!(
        "froze `{name}` in {}: {} (the best trial's, {} export); its runs are new nodes for munl, without searches",
        file.display(),
        values.join(", "),
        export.name()
    );
    EXIT_OK
}

/// `text` with the block of `unlearn NAME` holding `values`: each written in place of the
/// field's expression, or added; the `tune` field and every other searched field (a written
/// distribution whose value the export rule drops) removed. Errors say why not.
fn rewrite(
    text: &str,
    name: &str,
    values: &std::collections::BTreeMap<String, Value>,
    searched: &[String],
) -> Result<String, String> {
    let source = crate::source::Source::new("freeze.munl", text);
    let file = crate::syntax::parse(&source).map_err(|_| "the file does not parse".to_string())?;
    let decl = file
        .items
        .iter()
        .find_map(|i| match i {
            Item::Decl(d) if d.kind == DeclKind::Unlearn && d.name.name == name => Some(d),
            _ => None,
        })
        .ok_or_else(|| format!("`unlearn {name}` is declared in an imported file: freeze it there"))?;
    // The search and the searched fields the export rule drops go first, from the end...
    let mut removals: Vec<(usize, usize, String)> = decl
        .fields
        .iter()
        .filter(|f| f.name.name == "tune" || (searched.contains(&f.name.name) && !values.contains_key(&f.name.name)))
        .map(|f| removal(text, f))
        .collect();
    removals.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    let mut out = text.to_string();
    for (start, end, with) in removals {
        out.replace_range(start..end, &with);
    }
    // ...then each value is set as `--set` sets one: in place, or added to the block.
    for (field, value) in values {
        out = super::edit::set_field(&out, name, field, &value.to_string())?;
    }
    Ok(out)
}

/// The span to delete for a field: its whole line when it has one to itself (comments on that
/// line go with it), else the field and the `;` that separates it from the next.
fn removal(text: &str, f: &Field) -> (usize, usize, String) {
    if on_own_line(text, f.span.start) {
        let start = text[..f.span.start].rfind('\n').map_or(0, |i| i + 1);
        let end = text[f.span.end..].find('\n').map_or(text.len(), |i| f.span.end + i + 1);
        if text[f.span.end..end].trim_start().is_empty() || text[f.span.end..end].trim_start().starts_with('#') {
            return (start, end, String::new());
        }
    }
    let rest = &text[f.span.end..];
    let after = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if rest[after..].starts_with(';') {
        let more = rest[after + 1..].len() - rest[after + 1..].trim_start_matches([' ', '\t']).len();
        return (f.span.start, f.span.end + after + 1 + more, String::new());
    }
    // The last field of a one-line block: the `;` before it goes instead.
    let before = text[..f.span.start].trim_end_matches([' ', '\t']);
    let start = if before.ends_with(';') { before.len() - 1 } else { f.span.start };
    (start, f.span.end, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, Value)]) -> std::collections::BTreeMap<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn a_block_of_lines_gets_the_values_in_place_and_loses_its_search() {
        let text = "unlearn ft = finetune(original) {\n  # the rate\n  lr   = log_uniform(0.001, 0.1)  # searched\n  epochs = 2\n  tune = search(trials: 10, seeds: [0])\n}\n";
        let out = rewrite(
            text,
            "ft",
            &values(&[("lr", Value::Float(0.0125)), ("batch", Value::Int(64))]),
            &["lr".into(), "batch".into()],
        )
        .unwrap();
        assert_eq!(
            out,
            "unlearn ft = finetune(original) {\n  # the rate\n  lr   = 0.0125  # searched\n  epochs = 2\n  batch = 64\n}\n"
        );
    }

    #[test]
    fn a_one_line_block_stays_one_line() {
        let text = "unlearn ft = finetune(original) { lr = log_uniform(0.001, 0.1); tune = search(trials: 4) }\n";
        let out = rewrite(text, "ft", &values(&[("lr", Value::Float(0.02))]), &["lr".into()]).unwrap();
        assert_eq!(out, "unlearn ft = finetune(original) { lr = 0.02 }\n");
        let text = "unlearn ft = finetune(original) { tune = search(trials: 4); epochs = 1 }\n";
        let out = rewrite(text, "ft", &values(&[("lr", Value::Float(0.02))]), &["lr".into()]).unwrap();
        assert_eq!(out, "unlearn ft = finetune(original) { epochs = 1; lr = 0.02 }\n");
    }

    #[test]
    fn a_searched_field_the_export_rule_drops_goes_back_to_its_default() {
        let text = "unlearn s = scrub(original) {\n  msteps = int_uniform(1, 5)\n  lr = uniform(0.001, 0.1)\n  tune = search(trials: 4)\n}\n";
        let out = rewrite(text, "s", &values(&[("lr", Value::Float(0.05))]), &["lr".into(), "msteps".into()]).unwrap();
        assert_eq!(out, "unlearn s = scrub(original) {\n  lr = 0.05\n}\n");
    }

    #[test]
    fn an_unknown_declaration_is_an_error() {
        let err = rewrite("seeds = 0..1\n", "ft", &values(&[]), &[]).unwrap_err();
        assert!(err.contains("imported file"), "{err}");
    }
}
