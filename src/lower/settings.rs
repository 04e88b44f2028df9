//! Lowers the top-level settings of a file: `seeds` and `device`.

use crate::diag::did_you_mean;
use crate::ops::limits;
use crate::syntax::ast::{Expr, ExprKind, File, Item};

use super::cx::Cx;
use super::{value, Experiment, LowerError};

impl Cx<'_> {
    /// Applies the file's settings to `exp`, which holds their defaults.
    pub(super) fn settings(&mut self, file: &File, exp: &mut Experiment) {
        for item in &file.items {
            let Item::Setting(s) = item else { continue };
            match s.name.name.as_str() {
                "seeds" => {
                    if let Some(seeds) = self.seeds(&s.value) {
                        exp.seeds = seeds;
                    }
                }
                "device" => match &s.value.kind {
                    ExprKind::Path(p) if p.len() == 1 && ["auto", "cpu", "cuda"].contains(&p[0].name.as_str()) => {
                        exp.device = p[0].name.clone()
                    }
                    ExprKind::Str(d) if d == "cpu" || d == "auto" || d.starts_with("cuda") => exp.device = d.clone(),
                    _ => self.errors.push(LowerError::WrongType {
                        field: "device".into(),
                        expected: "`auto`, `cpu`, `cuda` or \"cuda:N\"".into(),
                        span: s.value.span,
                        found: value::describe(&s.value),
                        help: None,
                    }),
                },
                other => self.errors.push(LowerError::UnknownSetting {
                    name: other.into(),
                    span: s.name.span,
                    help: did_you_mean(other, crate::ops::field_names("settings"))
                        .map(|s| format!("did you mean `{s}`?")),
                }),
            }
        }
    }

    /// `seeds = …`: a range or a list of integers, each a seed munl takes
    /// (`limits::SEED`), none twice, at most `limits::SEEDS` of them. A range is measured before
    /// it is expanded.
    fn seeds(&mut self, e: &Expr) -> Option<Vec<u64>> {
        let bad = |cx: &mut Cx, message: String, why: Option<&str>| {
            cx.errors.push(LowerError::OutOfRange {
                field: "seeds".into(),
                message,
                span: e.span,
                help: why.map(str::to_string),
            });
            None
        };
        let too_many = |cx: &mut Cx, count: usize| {
            bad(cx, format!("{count} seeds, at most {}", limits::SEEDS.max), limits::SEEDS.why)
        };
        let seeds: Vec<i64> = match &e.kind {
            ExprKind::Range { start, end } => {
                // Counted before expanding: `0..100000000` is one comparison, not 800 MB.
                let count = usize::try_from(i128::from(*end) - i128::from(*start)).unwrap_or(0);
                if count > limits::SEEDS.max {
                    return too_many(self, count);
                }
                (*start..*end).collect()
            }
            // A bare integer read as one seed surprised users who meant a count (`seeds = 2` for
            // two seeds): it is refused, with both readings spelt out.
            ExprKind::Int(n) => {
                self.errors.push(LowerError::WrongType {
                    field: "seeds".into(),
                    expected: "a range such as `0..3` or a list of seeds such as `[2]`".into(),
                    span: e.span,
                    found: "a single integer".into(),
                    help: Some(bare_seed_help(*n)),
                });
                return None;
            }
            ExprKind::List(items) => {
                let mut out = vec![];
                for item in items {
                    match item.kind {
                        ExprKind::Int(i) => out.push(i),
                        _ => return bad(self, "seeds are integers".into(), None),
                    }
                }
                out
            }
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: "seeds".into(),
                    expected: "a range such as `0..3` or a list of seeds such as `[2]`".into(),
                    span: e.span,
                    found: value::describe(e),
                    help: None,
                });
                return None;
            }
        };
        if seeds.len() > limits::SEEDS.max {
            return too_many(self, seeds.len());
        }
        if seeds.is_empty() {
            return bad(self, "at least one seed is needed".into(), None);
        }
        if seeds.iter().any(|s| *s < 0) {
            return bad(self, "seeds are not negative".into(), None);
        }
        if seeds.iter().any(|s| *s > limits::SEED.max) {
            return bad(self, format!("seeds are at most {}", limits::SEED.max), limits::SEED.why);
        }
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != seeds.len() {
            return bad(self, "a seed appears twice".into(), None);
        }
        self.seeds_span = Some(e.span);
        Some(seeds.into_iter().map(|s| s as u64).collect())
    }
}

/// What `seeds = n` could have meant: `n` seeds from 0, or the one seed `n`.
fn bare_seed_help(n: i64) -> String {
    let alone = format!("`seeds = [{n}]` for seed {n} alone");
    match n {
        2.. => format!("`seeds = {n}` is one seed, {n}; write `seeds = 0..{n}` for {n} seeds, or {alone}"),
        1 => format!("`seeds = 1` is one seed, 1; write `seeds = 0..1` for one seed (0), or {alone}"),
        _ => format!("write {alone}"),
    }
}
