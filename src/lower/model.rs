//! Lowers `model` declarations: an architecture call, block fields as its arguments.

use crate::ops::{Category, Value};
use crate::syntax::ast::{Decl, Expr, ExprKind, Field};

use super::cx::Cx;
use super::{value, LowerError, Model};

impl<'a> Cx<'a> {
    /// `model NAME = arch(…) { … }`, checked against the architecture's catalogue entry.
    pub(super) fn model(&mut self, d: &'a Decl) -> Option<Model> {
        let (head, fields) = self.effective(d)?;
        let Some(head) = head else {
            self.errors.push(LowerError::MissingField {
                field: "architecture".into(),
                context: format!("model `{}`", d.name.name),
                span: d.name.span,
                help: Some("e.g. `model net = resnet18()`".into()),
            });
            return None;
        };
        let python = match &head.kind {
            ExprKind::Call { callee, .. } => callee.name == "python",
            ExprKind::Path(p) => p.len() == 1 && p[0].name == "python",
            _ => false,
        };
        if python {
            return self.custom_model(d, head, &fields);
        }
        let (name, name_span, mut args) = match &head.kind {
            ExprKind::Call { callee, args } => (callee.name.clone(), callee.span, args.clone()),
            ExprKind::Path(p) if p.len() == 1 => (p[0].name.clone(), p[0].span, vec![]),
            _ => {
                self.errors.push(LowerError::WrongType {
                    field: d.name.name.clone(),
                    expected: "a model architecture".into(),
                    span: head.span,
                    found: value::describe(head),
                    help: Some("e.g. `resnet18()`, `cnn()`".into()),
                });
                return None;
            }
        };
        // Block fields are architecture arguments too: `model m = cnn() { width = 16 }`.
        for f in fields {
            args.retain(|a| a.name.as_ref().map(|n| &n.name) != Some(&f.name.name));
            args.push(crate::syntax::ast::Arg { name: Some(f.name.clone()), value: f.value.clone(), span: f.span });
        }
        let arch = self.call(Category::Arch, &name, name_span, &args)?;
        // TinyViT halves the resolution five times (models.md §2): the reference only builds
        // it for multiples of 32.
        if let Some(size) = arch.args.get("img_size").and_then(Value::as_i64).filter(|s| s % 32 != 0) {
            let span = args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == "img_size"))
                .map_or(name_span, |a| a.span);
            self.errors.push(LowerError::OutOfRange {
                field: "img_size".into(),
                message: format!("{size} is not a multiple of 32"),
                span,
                help: None,
            });
            return None;
        }
        Some(Model { name: d.name.name.clone(), span: d.name.span, arch, code: None })
    }

    /// `model net = python("models/net.py", class: "Net") { width = 16 }`: the class's
    /// constructor fields checked like an architecture's, and the code's fingerprint.
    fn custom_model(&mut self, d: &'a Decl, head: &Expr, fields: &[&Field]) -> Option<Model> {
        let m = self.python_model(head)?;
        let mut args = m.args;
        for f in fields {
            args.retain(|a| a.name.as_ref().map(|n| &n.name) != Some(&f.name.name));
            args.push(crate::syntax::ast::Arg { name: Some(f.name.clone()), value: f.value.clone(), span: f.span });
        }
        let mut arch = value::call_op(m.spec, &m.shown, head.span, &args, &mut self.errors, &mut self.dims)?;
        arch.args.extend(super::python::code_fields(&m.code).map(|(k, v)| {
            if k == super::python::FUNCTION {
                (super::python::CLASS.to_string(), v)
            } else {
                (k, v)
            }
        }));
        Some(Model { name: d.name.name.clone(), span: d.name.span, arch, code: Some(m.code) })
    }
}
