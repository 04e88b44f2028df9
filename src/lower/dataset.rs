//! Lowers `dataset` declarations: the source, the split, the limit and the class count.

use std::path::{Component, Path, PathBuf};

use crate::diag::did_you_mean;
use crate::ops::{self, limits, Category, Value};
use crate::span::Span;
use crate::syntax::ast::{Decl, Expr, ExprKind};

use super::cx::Cx;
use super::{climbs_out, value, Dataset, LowerError};

const GIB: f64 = (1u64 << 30) as f64;

/// `limit = N` keeps N train images and N/6 test images: at least one of each.
const LIMIT: ops::Ty = ops::Ty::Int { min: 6, max: limits::IMAGES };

impl<'a> Cx<'a> {
    /// `dataset NAME { source = …; split = …; limit = … }`; the class count follows from the source.
    pub(super) fn dataset(&mut self, d: &'a Decl) -> Option<Dataset> {
        let (head, fields) = self.effective(d)?;
        let before = self.errors.len();
        let mut source = head.and_then(|h| self.typed("source", ops::Ty::Call(Category::Source), h));
        let mut source_expr = head;
        let mut split = None;
        let mut limit = None;
        for f in &fields {
            match f.name.name.as_str() {
                "source" => {
                    source_expr = Some(&f.value);
                    source = self.typed("source", ops::Ty::Call(Category::Source), &f.value)
                }
                "split" => split = self.typed("split", ops::Ty::Call(Category::Split), &f.value),
                "limit" => limit = self.typed("limit", LIMIT, &f.value),
                _ => self.unknown_field(f, "a dataset", &ops::field_names("dataset")),
            }
        }
        if source.is_none() && self.errors.len() == before {
            self.errors.push(LowerError::MissingField {
                field: "source".into(),
                context: format!("dataset `{}`", d.name.name),
                span: d.name.span,
                help: Some("e.g. `source = mnist(\"mnist\")`".into()),
            });
        }
        let source = source?.as_call()?.clone();
        let source_span = source_expr.map_or(d.name.span, |e| e.span);
        if source.op == "synthetic" {
            self.generated(&source, source_expr);
        }
        // Data is read from the data root or from an absolute path; a relative path may not climb
        // out of the root, where munl would otherwise fetch into (and create) any folder.
        for key in ["dir", "path"] {
            if let Some(location) = source.args.get(key).and_then(Value::as_str) {
                // `./…` is data that lives with the experiment, relative to this file's folder.
                let (rest, root) = match location.strip_prefix("./") {
                    Some(rest) => (rest, "this file's folder"),
                    None => (location, "the data root"),
                };
                if climbs_out(rest) {
                    self.errors.push(LowerError::BadDataPath {
                        path: location.to_string(),
                        reason: format!("climbs out of {root}"),
                        span: source_span,
                    });
                } else {
                    let span = source_expr.and_then(|e| location_span(e, key)).unwrap_or(source_span);
                    self.data_present(&source.op, location, span);
                }
            }
        }
        let split = match split {
            Some(s) => s.as_call()?.clone(),
            None => ops::Default::Call("random").value()?.as_call()?.clone(),
        };
        // Known from the dataset table, or from the source's own `classes` field.
        let classes = match ops::facts(&source.op).and_then(|f| f.classes) {
            Some(n) => n,
            None => source.args.get("classes").and_then(Value::as_i64)?,
        };
        (self.errors.len() == before).then(|| Dataset {
            name: d.name.name.clone(),
            span: d.name.span,
            source,
            split,
            limit: limit.and_then(|l| l.as_i64()),
            classes,
        })
    }

    /// Checks at `check` time that a source's data is where its path says (issue 17: a folder
    /// misspelt as `fashion_mnist` beside `fashion-mnist` surfaced only when a run read it). The
    /// rule, decided per source from the catalogue's facts (`ops::download`):
    ///
    /// - A path is checked where the folder meant to hold it exists: the data root for a relative
    ///   path, the `.munl` file's folder for `./…`, the parent folder for an absolute path. Where
    ///   that folder is missing (no data root on this machine yet, or a path of another machine,
    ///   such as a cluster's scratch space), `check` cannot tell; a run reports what it cannot read.
    /// - A source munl downloads (MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100: those with an official
    ///   download) may be missing from the data root: the first run fetches it there. But when an
    ///   entry beside it differs from it only by case or separators (`-`, `_`, `.`, spaces), that
    ///   is the data meant, and downloading a second copy would hide the typo: an error naming it.
    /// - Every other missing path is an error, naming the closest entry beside it if one is close:
    ///   user data (`image_folder`, `arrays`, `csv`), UTKFace (no official address to fetch it
    ///   from), and downloadable sources at an absolute or `./` path, which munl never fetches into.
    fn data_present(&mut self, op: &str, location: &str, span: Span) {
        // Where the path starts, what is written after that, and whether a run would fetch there.
        let (anchor, rest, shown_prefix, fetched_here) = match location.strip_prefix("./") {
            Some(rest) => (self.base_dir.clone(), rest, "./".to_string(), false),
            None if Path::new(location).is_absolute() => {
                let path = Path::new(location);
                let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
                    return;
                };
                let shown = parent.join("").display().to_string();
                (parent.to_path_buf(), name, shown, false)
            }
            None => (self.data_root.clone(), location, String::new(), true),
        };
        if !anchor.is_dir() {
            return;
        }
        // The first component that is not there: where the path goes wrong.
        let parts: Vec<&str> = Path::new(rest)
            .components()
            .filter_map(|c| match c {
                Component::Normal(p) => p.to_str(),
                Component::ParentDir => Some(".."),
                _ => None,
            })
            .collect();
        let mut at: PathBuf = anchor;
        let Some(missing) = parts.iter().position(|p| {
            at.push(p);
            !at.exists()
        }) else {
            return;
        };
        at.pop();
        let wanted = parts[missing];
        let mut entries: Vec<String> = std::fs::read_dir(&at)
            .map(|dir| dir.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        entries.sort();
        let same = entries.iter().find(|e| normalised(e) == normalised(wanted)).cloned();
        let fetchable = ops::download(op).is_some();
        let title = ops::facts(op).map_or(op, |f| f.title);
        if fetchable && fetched_here && same.is_none() {
            return;
        }
        let close = same.clone().or_else(|| did_you_mean(wanted, entries.iter().map(String::as_str)));
        let suggested = close.as_ref().map(|c| {
            let mut fixed = parts.clone();
            fixed[missing] = c;
            format!("{shown_prefix}{}", fixed.join("/"))
        });
        let place = match (missing, shown_prefix.as_str()) {
            (0, "") => "the data root".to_string(),
            (0, "./") => "the `.munl` file's folder".to_string(),
            (0, parent) => format!("`{parent}`"),
            (n, prefix) => format!("`{prefix}{}`", parts[..n].join("/")),
        };
        let mut help = vec![];
        let label = if fetchable && fetched_here {
            // `same` is there: the only case a downloadable source in the data root is refused.
            let found = same.as_deref().unwrap_or(wanted);
            help.push(format!(
                "did you mean `{}`? it differs from `{wanted}` only in case or separators",
                suggested.as_deref().unwrap_or(found)
            ));
            format!("munl would download {title} into a second folder, beside `{found}`")
        } else {
            if let Some(s) = &suggested {
                help.push(format!("did you mean `{s}`?"));
            } else if shown_prefix.is_empty() {
                help.push(format!(
                    "relative data paths are under the data root, `{}` ($MUNL_DATA, else data/); `./…` paths under the `.munl` file's folder",
                    self.data_root.display()
                ));
            } else if shown_prefix == "./" {
                help.push("`./…` paths are relative to the `.munl` file's folder".into());
            }
            if fetchable {
                help.push(format!(
                    "munl downloads {title} only into the data root: write a relative path such as `{op}(\"{}\")` to have it fetched",
                    parts.last().copied().unwrap_or(op)
                ));
            } else if ops::facts(op).is_some() {
                help.push(format!("munl cannot download {title} (it has no official address): put its files there"));
            }
            format!("no `{wanted}` in {place}")
        };
        self.errors.push(LowerError::MissingData {
            path: location.to_string(),
            span,
            label,
            // A question ends its sentence; the other parts are clauses.
            help: help
                .into_iter()
                .reduce(|a, b| if a.ends_with('?') { format!("{a} {b}") } else { format!("{a}; {b}") }),
        });
    }

    /// What the catalogue's types cannot say about `synthetic(…)`: images have 1 or 3 channels,
    /// and the generated data fits munl's limit (`limits::GENERATED_BYTES`).
    fn generated(&mut self, source: &ops::Call, expr: Option<&Expr>) {
        let int = |name: &str| source.args.get(name).and_then(Value::as_i64);
        let shape: Vec<i64> = match source.args.get("shape") {
            Some(Value::List(items)) => items.iter().filter_map(Value::as_i64).collect(),
            _ => return,
        };
        let (Some(size), Some(test), &[c, h, w]) = (int("size"), int("test"), shape.as_slice()) else { return };
        if c != 1 && c != 3 {
            if let Some(span) = expr.and_then(|e| value::arg_span(e, "shape")).or(expr.map(|e| e.span)) {
                self.errors.push(LowerError::OutOfRange {
                    field: "shape".into(),
                    message: format!("images have 1 (grey) or 3 (RGB) channels, not {c}"),
                    span,
                    help: Some("`shape` is [channels, height, width]".into()),
                });
            }
            return;
        }
        // Each factor is bounded by the types, so the product fits: (2 × 10^7) × 3 × 4096².
        let bytes = [size + test, c, h, w].iter().map(|&x| x as u64).product::<u64>();
        let max = limits::GENERATED_BYTES;
        if let (true, Some(span)) = (bytes > max.max, expr.map(|e| e.span)) {
            self.errors.push(LowerError::OutOfRange {
                field: "synthetic".into(),
                message: format!(
                    "{} images of {c}×{h}×{w} pixels take {:.1} GiB, at most {} GiB",
                    size + test,
                    bytes as f64 / GIB,
                    max.max as f64 / GIB
                ),
                span,
                help: max.why.map(str::to_string),
            });
        }
    }
}

/// A name as far as a typo goes: lowercase, without `-`, `_`, `.` and spaces, so that
/// `fashion_mnist`, `Fashion-MNIST` and `fashionmnist` are one name.
fn normalised(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, '-' | '_' | '.' | ' ')).flat_map(char::to_lowercase).collect()
}

/// The span of a source's `key` argument (`dir`, `path`): named, or the first positional one.
fn location_span(expr: &Expr, key: &str) -> Option<Span> {
    let ExprKind::Call { args, .. } = &expr.kind else { return None };
    let named = args.iter().find(|a| a.name.as_ref().is_some_and(|n| n.name == key));
    named.or_else(|| args.iter().find(|a| a.name.is_none())).map(|a| a.value.span)
}
