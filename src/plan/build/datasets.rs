//! `dataset` declarations: a decode node and a split node each.

use std::path::Path;

use super::{Builder, Data, Point, Points, Spec};
use crate::lower::Experiment;
use crate::ops::{self, Category, Value};
use crate::plan::fingerprint::{csv_fingerprint, fingerprint};
use crate::plan::{Coords, Params, Paths, Payload};

/// The dataset and split node of every dataset declaration, at each point of the dimensions its
/// split varies along. Relative data folders resolve against `data_root`.
pub(in crate::plan) fn datasets(b: &mut Builder, exp: &Experiment, data_root: &Path) -> Data {
    let mut data = vec![];
    for (i, ds) in exp.datasets.iter().enumerate() {
        // The location is a fact of this machine, not of the data's meaning.
        let location = ["dir", "path"].iter().find_map(|k| ds.source.args.get(*k).and_then(Value::as_str));
        // `./…` lives with the experiment: relative to its file's folder, never fetched into.
        let beside = |l: &str| l.starts_with("./");
        let at = location.map(|l| match l.strip_prefix("./") {
            Some(rest) => exp.base_dir.join(rest),
            None => data_root.join(l),
        });
        // Official datasets are identified by their published checksums, checked on load; user
        // data by what its files hold.
        let content = match (&at, ds.source.op.as_str()) {
            (Some(at), "image_folder" | "arrays" | "utkface") => {
                Some(fingerprint(at).unwrap_or_else(|| "missing".into()))
            }
            // The CSV and the images it names.
            (Some(at), "csv") => Some(csv_fingerprint(at).unwrap_or_else(|| "missing".into())),
            _ => None,
        };
        let source_dims = exp.source_dims(i);
        let mut nodes = Points::new();
        let mut ids = vec![];
        for point in Point::all(exp, &exp.split_dims(i)) {
            let at_source = point.project(&source_dims);
            let args: Params = ds
                .source
                .args
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "dir" | "path"))
                .map(|(k, v)| (k.clone(), at_source.bind(v)))
                .collect();
            let d = b.add(Spec {
                op: &ds.source.op,
                version: ops::version(Category::Source, &ds.source.op),
                payload: Payload::Dataset { args, limit: ds.limit, content: content.clone() },
                inputs: vec![],
                coords: Coords::new(),
                paths: Paths {
                    fetch: location.is_some_and(|l| !Path::new(l).is_absolute() && !beside(l)),
                    data: at.clone(),
                    ..Paths::default()
                },
                label: format!("dataset {}{}", ds.name, at_source.suffix(exp)),
                decl: &ds.name,
                span: ds.span,
            });
            let s = b.add(Spec {
                op: &ds.split.op,
                version: ops::version(Category::Split, &ds.split.op),
                payload: Payload::Split { args: point.bind_all(&ds.split.args) },
                inputs: vec![("data".into(), d)],
                coords: Coords::new(),
                paths: Paths::default(),
                label: format!("split {}{}", ds.name, point.suffix(exp)),
                decl: &ds.name,
                span: ds.span,
            });
            for id in [d, s] {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            nodes.insert(point, (d, s));
        }
        b.declare(&ds.name, ids);
        data.push(nodes);
    }
    data
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::source::Source;

    fn dataset(location: &str) -> Result<crate::plan::Node, String> {
        let text = format!("dataset d {{ source = mnist(\"{location}\") }}\n");
        let source = Source::new("/experiments/x.munl", text);
        let compiled = crate::compile::compile(&source, Path::new("/data")).map_err(|d| crate::testing::render(&d))?;
        let id = compiled.plan.target("d").unwrap()[0];
        Ok(compiled.plan.node(id).clone())
    }

    /// A `csv` dataset's key changes when the CSV or an image it names changes.
    #[test]
    fn a_csv_datasets_key_follows_its_images() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("pets")).unwrap();
        std::fs::write(root.path().join("pets/labels.csv"), "path,label\na.png,0\nb.png,1\n").unwrap();
        std::fs::write(root.path().join("pets/a.png"), b"a").unwrap();
        std::fs::write(root.path().join("pets/b.png"), b"b").unwrap();
        let key = || {
            let text = "dataset d { source = csv(\"pets/labels.csv\", classes: 2) }\n";
            let compiled = crate::compile::compile(&Source::new("/experiments/x.munl", text), root.path())
                .map_err(|d| crate::testing::render(&d))
                .unwrap();
            let id = compiled.plan.target("d").unwrap()[0];
            compiled.plan.node(id).key
        };
        let before = key();
        assert_eq!(key(), before);
        std::fs::write(root.path().join("pets/b.png"), b"bigger").unwrap();
        assert_ne!(key(), before);
    }

    /// Data is fetched only into the data root; an absolute path is read from, never written
    /// to; a relative path may not climb out of the root.
    #[test]
    fn data_paths_are_under_the_root_or_absolute() {
        let under = dataset("mnist").unwrap();
        assert_eq!((under.data_dir(), under.paths.fetch), (Some(Path::new("/data/mnist")), true));
        let scratch = dataset("/scratch/mnist").unwrap();
        assert_eq!((scratch.data_dir(), scratch.paths.fetch), (Some(Path::new("/scratch/mnist")), false));
        let err = dataset("../escape_mnist").unwrap_err();
        assert!(err.contains("munl::lower::bad_data_path") && err.contains("climbs out of the data root"), "{err}");
        assert!(dataset("a/../b").is_ok(), "climbing back inside the root is fine");
        let beside = dataset("./data/mnist").unwrap();
        assert_eq!((beside.data_dir(), beside.paths.fetch), (Some(Path::new("/experiments/data/mnist")), false));
        let err = dataset("./../mnist").unwrap_err();
        assert!(err.contains("climbs out of this file's folder"), "{err}");
    }
}
