//! Lowers `report` declarations: the `evaluate` rendered and one output path per format.

use std::path::Path;

use crate::ops::{self, Format, Value};
use crate::syntax::ast::{Decl, Expr, ExprKind};

use super::cx::Cx;
use super::{climbs_out, EvalRef, LowerError, Report};

impl<'a> Cx<'a> {
    /// `report NAME { evaluate = …; <format> = "path" }`; without `evaluate`, the `evaluate` of the
    /// same name. `evaluate = [a, mr.b, …]` (a list) makes a report across settings.
    pub(super) fn report(&mut self, d: &'a Decl) -> Option<Report> {
        let (_, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut evaluates = vec![];
        let mut across = false;
        let mut outputs = vec![];
        for f in &fields {
            let name = f.name.name.as_str();
            if name == "evaluate" {
                across = matches!(f.value.kind, ExprKind::List(_));
                evaluates = self.evaluations(&d.name.name, &f.value);
            } else if let Some(format) = Format::from_name(name) {
                if let Some(Value::Str(path)) = self.typed(name, ops::Ty::Str, &f.value) {
                    let ext = Path::new(&path).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
                    if let Some(reason) = bad_report_path(&path) {
                        self.errors.push(LowerError::BadPath { path, reason: reason.into(), span: f.value.span });
                    } else if format == Format::Plot && !matches!(ext.as_deref(), Some("svg" | "png")) {
                        let reason = "must end in `.svg` or `.png` (the plot's format)".into();
                        self.errors.push(LowerError::BadPath { path, reason, span: f.value.span });
                    } else if format == Format::Html && ext.as_deref() != Some("html") {
                        let reason = "must end in `.html` (one self-contained page)".into();
                        self.errors.push(LowerError::BadPath { path, reason, span: f.value.span });
                    } else {
                        outputs.push((format, path));
                    }
                }
            } else {
                self.unknown_field(f, "`report`", &ops::field_names("report"));
            }
        }
        if !fields.iter().any(|f| f.name.name == "evaluate") {
            let named = self.evaluate_named(&d.name.name);
            evaluates.extend(named.map(|index| EvalRef { import: None, index, name: d.name.name.clone() }));
            if named.is_none() {
                self.errors.push(LowerError::MissingField {
                    field: "evaluate".into(),
                    context: format!("report `{}`", d.name.name),
                    span: d.name.span,
                    help: Some("name the report like its `evaluate`, or set `evaluate = <name>`".into()),
                });
            }
        }
        outputs.sort_by_key(|(format, _)| *format);
        (self.errors.len() == before).then(|| Report {
            name: d.name.name.clone(),
            span: d.name.span,
            evaluates,
            across,
            outputs,
        })
    }

    /// The evaluations `evaluate = …` names: one, or a list of at least one, each once.
    fn evaluations(&mut self, report: &str, e: &Expr) -> Vec<EvalRef> {
        let ExprKind::List(items) = &e.kind else {
            return self.evaluation(e).into_iter().collect();
        };
        if items.is_empty() {
            self.errors.push(LowerError::BadEvaluations {
                report: report.into(),
                message: "no evaluation listed".into(),
                span: e.span,
                help: Some("list the evaluations to report across: `[bench, mr.bench]`".into()),
            });
        }
        let mut out: Vec<EvalRef> = vec![];
        for item in items {
            let Some(r) = self.evaluation(item) else { continue };
            if out.iter().any(|o| o.import == r.import && o.index == r.index) {
                self.errors.push(LowerError::BadEvaluations {
                    report: report.into(),
                    message: format!("`{}` is listed twice", r.name),
                    span: item.span,
                    help: None,
                });
                continue;
            }
            out.push(r);
        }
        out
    }
}

/// Why a report path may not be used, if it may not.
fn bad_report_path(path: &str) -> Option<&'static str> {
    let p = Path::new(path);
    if path.is_empty() {
        return Some("is empty");
    }
    if p.file_name().is_none() || path.ends_with('/') {
        return Some("names a folder: give the file to write");
    }
    if p.is_absolute() {
        return Some("is absolute");
    }
    climbs_out(path).then_some("leaves the experiment's folder")
}
