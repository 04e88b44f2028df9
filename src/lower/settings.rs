//! Lowers the top-level settings of a file: `seeds` and `device`.

use crate::diag::did_you_mean;
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
                    help: did_you_mean(other, ["seeds", "device"]).map(|s| format!("did you mean `{s}`?")),
                }),
            }
        }
    }

    /// `seeds = …`: a range, an integer or a list of integers, none negative, none twice.
    fn seeds(&mut self, e: &Expr) -> Option<Vec<u64>> {
        let bad = |cx: &mut Cx, message: &str| {
            cx.errors.push(LowerError::OutOfRange { field: "seeds".into(), message: message.into(), span: e.span });
            None
        };
        let seeds: Vec<i64> = match &e.kind {
            ExprKind::Range { start, end } => (*start..*end).collect(),
            ExprKind::Int(i) => vec![*i],
            ExprKind::List(items) => {
                let mut out = vec![];
                for item in items {
                    match item.kind {
                        ExprKind::Int(i) => out.push(i),
                        _ => return bad(self, "seeds are integers"),
                    }
                }
                out
            }
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: "seeds".into(),
                    expected: "a range such as `0..3`, an integer or a list of integers".into(),
                    span: e.span,
                    found: value::describe(e),
                    help: None,
                });
                return None;
            }
        };
        if seeds.is_empty() {
            return bad(self, "at least one seed is needed");
        }
        if seeds.iter().any(|s| *s < 0) {
            return bad(self, "seeds are not negative");
        }
        let mut sorted = seeds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != seeds.len() {
            return bad(self, "a seed appears twice");
        }
        Some(seeds.into_iter().map(|s| s as u64).collect())
    }
}
