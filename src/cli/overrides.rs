//! `--set DECL.FIELD=VALUE` and `--set SETTING=VALUE`: fields changed without editing the file.
//!
//! An override is applied to the file's text before anything reads it, exactly as if the file
//! said so: the same keys, the same checks, and diagnostics that point at the value in the
//! file as overridden. Every command that loads a file applies them (`munl diff` to both
//! files); `munl freeze` and `munl fmt`, which rewrite files, refuse them.

use std::sync::OnceLock;

use crate::source::Source;

static OVERRIDES: OnceLock<Vec<Override>> = OnceLock::new();

/// One `--set`: a file setting (`seeds=0..3`) or a declaration's field (`ft.lr=0.02`), with its
/// value as `.munl` text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Override {
    pub(crate) decl: Option<String>,
    pub(crate) field: String,
    pub(crate) value: String,
}

impl Override {
    /// Parses `NAME=VALUE` or `DECL.FIELD=VALUE`; clap shows the error.
    pub(crate) fn parse(text: &str) -> Result<Override, String> {
        let (target, value) =
            text.split_once('=').ok_or_else(|| format!("`{text}` is not `DECL.FIELD=VALUE` or `SETTING=VALUE`"))?;
        let (target, value) = (target.trim(), value.trim());
        if value.is_empty() {
            return Err(format!("`{text}` gives no value"));
        }
        let name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        let (decl, field) = match target.split_once('.') {
            Some((d, f)) if name(d) && name(f) => (Some(d.to_string()), f.to_string()),
            None if name(target) => (None, target.to_string()),
            _ => return Err(format!("`{target}` is not `DECL.FIELD` or `SETTING`")),
        };
        Ok(Override { decl, field, value: value.to_string() })
    }

    /// As written: `ft.lr = 0.02`.
    pub(crate) fn shown(&self) -> String {
        match &self.decl {
            Some(d) => format!("{d}.{} = {}", self.field, self.value),
            None => format!("{} = {}", self.field, self.value),
        }
    }
}

/// Records the command line's overrides, once.
pub(crate) fn set(overrides: Vec<Override>) {
    let _ = OVERRIDES.set(overrides);
}

/// The command line's overrides.
pub(crate) fn current() -> &'static [Override] {
    OVERRIDES.get().map_or(&[], Vec::as_slice)
}

/// `source` with every override applied, in order; an error names the override.
pub(crate) fn apply(source: Source) -> Result<Source, String> {
    let mut text = source.text.clone();
    for o in current() {
        let edited = match &o.decl {
            Some(decl) => super::edit::set_field(&text, decl, &o.field, &o.value),
            None => super::edit::set_setting(&text, &o.field, &o.value),
        };
        text = edited.map_err(|why| format!("--set {}: {why}", o.shown()))?;
    }
    Ok(if text == source.text { source } else { Source::new(source.path.clone(), text) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_as_written() {
        let o = Override::parse("ft.lr=log_uniform(0.001, 0.1)").unwrap();
        assert_eq!(
            (o.decl.as_deref(), o.field.as_str(), o.value.as_str()),
            (Some("ft"), "lr", "log_uniform(0.001, 0.1)")
        );
        assert_eq!(Override::parse("seeds = 0..3").unwrap().shown(), "seeds = 0..3");
        assert!(Override::parse("ft.lr").is_err());
        assert!(Override::parse("ft.=1").is_err());
        assert!(Override::parse("a.b.c=1").is_err());
        assert!(Override::parse("ft.lr=").is_err());
    }
}
