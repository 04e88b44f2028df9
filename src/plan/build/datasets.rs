//! `dataset` declarations: a decode node and a split node each.

use std::path::Path;

use super::{Builder, Data, Spec};
use crate::lower::Experiment;
use crate::ops::{self, Category, Value};
use crate::plan::fingerprint::fingerprint;
use crate::plan::{Coords, Params, Paths, Payload};

/// The dataset and split node of every dataset declaration. Relative data folders resolve
/// against `data_root`.
pub(in crate::plan) fn datasets(b: &mut Builder, exp: &Experiment, data_root: &Path) -> Data {
    let mut data = vec![];
    for ds in &exp.datasets {
        // The location is a fact of this machine, not of the data's meaning.
        let location = ["dir", "path"].iter().find_map(|k| ds.source.args.get(*k).and_then(Value::as_str));
        let args: Params = ds
            .source
            .args
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "dir" | "path"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let at = location.map(|l| data_root.join(l));
        // Official datasets are identified by their published checksums, checked on load; user
        // data by what its files hold.
        let content = match (&at, ds.source.op.as_str()) {
            (Some(at), "image_folder" | "utkface") => Some(fingerprint(at).unwrap_or_else(|| "missing".into())),
            _ => None,
        };
        let d = b.add(Spec {
            op: &ds.source.op,
            version: ops::version(Category::Source, &ds.source.op),
            payload: Payload::Dataset { args, limit: ds.limit, content },
            inputs: vec![],
            coords: Coords::new(),
            paths: Paths { fetch: location.is_some_and(|l| !Path::new(l).is_absolute()), data: at, ..Paths::default() },
            label: format!("dataset {}", ds.name),
            decl: &ds.name,
            span: ds.span,
        });
        let s = b.add(Spec {
            op: &ds.split.op,
            version: ops::version(Category::Split, &ds.split.op),
            payload: Payload::Split { args: ds.split.args.clone() },
            inputs: vec![("data".into(), d)],
            coords: Coords::new(),
            paths: Paths::default(),
            label: format!("split {}", ds.name),
            decl: &ds.name,
            span: ds.span,
        });
        b.declare(&ds.name, vec![d, s]);
        data.push((d, s));
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
        let compiled =
            crate::compile::compile(&source, Path::new("/data")).map_err(|d| crate::testing::render(&d, &source))?;
        let id = compiled.plan.target("d").unwrap()[0];
        Ok(compiled.plan.node(id).clone())
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
    }
}
