//! Edits of `.munl` text that keep everything else as written: a declaration's field or a
//! file setting set to a value (`--set`), placed where a person would write it.

use crate::source::Source;
use crate::syntax::ast::{Decl, Item};

/// `text` with `field = value` in the block of the declaration `decl` (its expression replaced
/// when the block writes the field, else added as its last field; a block is added to a
/// declaration without one). `value` is `.munl` text, not checked here.
pub(crate) fn set_field(text: &str, decl: &str, field: &str, value: &str) -> Result<String, String> {
    let file = parse(text)?;
    let d: &Decl = file
        .items
        .iter()
        .find_map(|i| match i {
            Item::Decl(d) if d.name.name == decl => Some(d),
            _ => None,
        })
        .ok_or_else(|| format!("no declaration `{decl}` in this file (an imported one is set in its own file)"))?;
    if let Some(f) = d.fields.iter().find(|f| f.name.name == field) {
        return Ok(splice(text, f.value.span.start, f.value.span.end, value));
    }
    Ok(match d.fields.last() {
        Some(last) if on_own_line(text, last.span.start) => {
            let at = last.span.end;
            splice(text, at, at, &format!("\n{}{field} = {value}", indentation(text, last.span.start)))
        }
        Some(last) => splice(text, last.span.end, last.span.end, &format!("; {field} = {value}")),
        None if text[..d.span.end].ends_with('}') => {
            // An empty block, `{}` or `{ }`.
            let open = text[..d.span.end].rfind('{').unwrap_or(d.span.end - 1);
            splice(text, open, d.span.end, &format!("{{ {field} = {value} }}"))
        }
        None => splice(text, d.span.end, d.span.end, &format!(" {{ {field} = {value} }}")),
    })
}

/// `text` with the file setting `name = value`: its expression replaced, or a line added
/// before the first item.
pub(crate) fn set_setting(text: &str, name: &str, value: &str) -> Result<String, String> {
    let file = parse(text)?;
    for item in &file.items {
        if let Item::Setting(s) = item {
            if s.name.name == name {
                return Ok(splice(text, s.value.span.start, s.value.span.end, value));
            }
        }
    }
    let at = file.items.first().map_or(text.len(), |i| match i {
        Item::Import(x) => x.span.start,
        Item::Setting(x) => x.span.start,
        Item::Decl(x) => x.span.start,
    });
    Ok(splice(text, at, at, &format!("{name} = {value}\n")))
}

fn parse(text: &str) -> Result<crate::syntax::ast::File, String> {
    crate::syntax::parse(&Source::new("edit.munl", text)).map_err(|_| "the file does not parse".to_string())
}

fn splice(text: &str, start: usize, end: usize, with: &str) -> String {
    let mut out = text.to_string();
    out.replace_range(start..end, with);
    out
}

/// Whether only spaces precede `at` on its line.
pub(crate) fn on_own_line(text: &str, at: usize) -> bool {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[start..at].chars().all(|c| c == ' ' || c == '\t')
}

/// The spaces before `at` on its line.
pub(crate) fn indentation(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    &text[start..at]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_field_is_replaced_and_a_new_one_added_where_a_person_would() {
        let text = "train t {\n  epochs = 2  # short\n  batch  = 32\n}\nunlearn ft = finetune(t) { lr = 0.01 }\nunlearn ga = gradient_ascent(t)\n";
        assert_eq!(
            set_field(text, "t", "epochs", "20").unwrap(),
            "train t {\n  epochs = 20  # short\n  batch  = 32\n}\nunlearn ft = finetune(t) { lr = 0.01 }\nunlearn ga = gradient_ascent(t)\n"
        );
        assert!(set_field(text, "t", "sched", "cosine()").unwrap().contains("  batch  = 32\n  sched = cosine()\n}"));
        assert!(set_field(text, "ft", "epochs", "1").unwrap().contains("{ lr = 0.01; epochs = 1 }"));
        assert!(set_field(text, "ga", "lr", "0.1").unwrap().contains("unlearn ga = gradient_ascent(t) { lr = 0.1 }\n"));
        assert!(set_field(text, "nope", "lr", "0.1").unwrap_err().contains("no declaration `nope`"));
    }

    #[test]
    fn a_setting_is_replaced_or_added_first() {
        let text = "# experiment\nseeds = 0..2\nmodel m = cnn()\n";
        assert_eq!(set_setting(text, "seeds", "0..5").unwrap(), "# experiment\nseeds = 0..5\nmodel m = cnn()\n");
        assert_eq!(
            set_setting(text, "device", "cpu").unwrap(),
            "# experiment\ndevice = cpu\nseeds = 0..2\nmodel m = cnn()\n"
        );
    }
}
