//! The declarations of a `.munl` file and their own fields (`dataset`, `train`, `evaluate`,
//! `report`, …, and the file's settings): what `munl methods` prints for them, and the names
//! lowering checks a declaration's fields against, so the two cannot drift apart. The fields of
//! the ops a declaration calls (an architecture, a method) are those ops' catalogue entries.

use super::spec::{Category, Default};

/// One kind of declaration (or the file's settings) and its fields.
#[derive(Debug)]
pub(crate) struct DeclSpec {
    /// The keyword (`dataset`), or `settings` for the top-level `seeds = …` and `device = …`.
    pub(crate) keyword: &'static str,
    /// How it is written.
    pub(crate) form: &'static str,
    pub(crate) doc: &'static str,
    /// Its own fields, in the order they are documented.
    pub(crate) fields: &'static [DeclField],
    /// The catalogue op whose fields are the declaration's fields too (`train`'s recipe).
    pub(crate) op: Option<(Category, &'static str)>,
    /// The fields of the op it calls, where it calls one (`an unlearning method`).
    pub(crate) calls: Option<Category>,
}

/// A field of a declaration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DeclField {
    pub(crate) name: &'static str,
    /// Its type, in words a user writes.
    pub(crate) ty: &'static str,
    pub(crate) absent: Absent,
    pub(crate) doc: &'static str,
}

/// What a declaration without the field means.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Absent {
    /// The declaration needs it.
    Required,
    /// This value.
    Default(Default),
    /// The value as a `.munl` file writes it (a list of names, a range).
    Written(&'static str),
    /// No value, meaning this.
    Means(&'static str),
}

const fn f(name: &'static str, ty: &'static str, absent: Absent, doc: &'static str) -> DeclField {
    DeclField { name, ty, absent, doc }
}

/// A report format's output path.
const fn format(name: &'static str, doc: &'static str) -> DeclField {
    f(name, "path", Absent::Means("not written"), doc)
}

/// Every declaration, in the order the language documents them.
pub(crate) static ALL: &[DeclSpec] = &[
    DeclSpec {
        keyword: "settings",
        form: "seeds = 0..3\ndevice = cuda",
        doc: "the file's settings, written at the top level",
        fields: &[
            f(
                "seeds",
                "range or [int]",
                Absent::Written("[0]"),
                "the seeds every model is trained and unlearned with: `0..3` or `[0, 4]`",
            ),
            f(
                "device",
                "auto|cpu|cuda|\"cuda:N\"",
                Absent::Written("auto"),
                "where the torch backend computes (`auto`: the first GPU if there is one)",
            ),
        ],
        op: None,
        calls: None,
    },
    DeclSpec {
        keyword: "dataset",
        form: "dataset NAME { source = …; split = …; limit = … }",
        doc: "a dataset, decoded once, and how it is split into retain, forget, validation and test sets",
        fields: &[
            f("source", "a dataset source", Absent::Required, "where the images come from: `mnist(\"mnist\")`, `cifar10(\"cifar10\")`, `synthetic(…)`, …"),
            f("split", "a split", Absent::Default(Default::Call("random")), "how the official train part is split: `random(…)` or `lira(…)`"),
            f("limit", "int ≥ 6", Absent::Means("every image"), "keep the first N train images and N/6 test images (quick runs)"),
        ],
        op: None,
        calls: None,
    },
    DeclSpec {
        keyword: "model",
        form: "model NAME = ARCH(…) { … }",
        doc: "an architecture with its fields; the class count follows from the dataset it is trained on",
        fields: &[],
        op: None,
        calls: Some(Category::Arch),
    },
    DeclSpec {
        keyword: "train",
        form: "train NAME { model = …; data = DATASET.SUBSET; … }\ntrain NAME = PARENT { … }",
        doc: "a trained model per seed: the Original (on `train`) or the Retrain reference (on `retain`); a parent's fields are inherited",
        fields: &[],
        op: Some((Category::Train, "train")),
        calls: None,
    },
    DeclSpec {
        keyword: "unlearn",
        form: "unlearn NAME = METHOD(TRAIN) { field = value; tune = search(…) }",
        doc: "an unlearning method applied to a trained model per seed; a field may be a distribution (`lr ~ log_uniform(1e-5, 1e-1)`) that `tune` searches",
        fields: &[f(
            "tune",
            "a hyper-parameter search",
            Absent::Means("no search: the written values and defaults"),
            "`search(trials: 100, seeds: [0, 1, 2])`: search the method's fields (`munl methods search`)",
        )],
        op: None,
        calls: Some(Category::Method),
    },
    DeclSpec {
        keyword: "evaluate",
        form: "evaluate NAME { models = […]; reference = …; metrics = […]; over = […] }",
        doc: "one table of metrics over models and seeds",
        fields: &[
            f("models", "[train/unlearn name]", Absent::Required, "the models compared, one row each"),
            f("reference", "a train name", Absent::Means("none"), "the model the comparing metrics (rte, retention, sape, distance) compare with, usually the Retrain model"),
            f("metrics", "[metric]", Absent::Written("[accuracy, mia, indiscernibility, rte]"), "the metrics computed (`munl methods --all` lists them)"),
            f("over", "[dimension name]", Absent::Written("[seed]"), "the dimensions the table aggregates over; the others make a table each"),
        ],
        op: None,
        calls: None,
    },
    DeclSpec {
        keyword: "report",
        form: "report NAME { evaluate = …; markdown = \"results/x.md\"; … }",
        doc: "an evaluation's table written to files, one field per format; paths are relative to the file's folder",
        fields: &[
            f("evaluate", "evaluate name(s)", Absent::Means("the evaluate of the same name"), "the evaluation reported; a list (`[bench, mr.bench]`) reports across them"),
            format("markdown", "a Markdown table"),
            format("csv", "one CSV row per model and metric"),
            format("json", "the table as JSON (`munl diff` compares two)"),
            format("latex", "a LaTeX table"),
            format("plot", "a plot of the metrics: `.svg` or `.png`"),
            format("html", "one self-contained page: tables, provenance, searches, plots (`.html`)"),
        ],
        op: None,
        calls: None,
    },
    DeclSpec {
        keyword: "dim",
        form: "dim NAME = [v1, v2, …]",
        doc: "a dimension declarations can vary along: a field written `NAME` takes each value in turn",
        fields: &[],
        op: None,
        calls: None,
    },
];

/// The declaration with this keyword.
pub(crate) fn declaration(keyword: &str) -> Option<&'static DeclSpec> {
    ALL.iter().find(|d| d.keyword == keyword)
}

/// The names of the fields a declaration of this kind takes itself (its op's included), for
/// lowering's "unknown field" check and its suggestions.
pub(crate) fn field_names(keyword: &str) -> Vec<&'static str> {
    let Some(d) = declaration(keyword) else { return vec![] };
    let mut names: Vec<&'static str> = d.fields.iter().map(|f| f.name).collect();
    if let Some((category, op)) = d.op {
        names.extend(super::find(category, op).into_iter().flat_map(|o| o.fields.iter().map(|f| f.name)));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{Format, Metric};

    #[test]
    fn the_tables_say_what_lowering_knows() {
        let report = field_names("report");
        let mut expected = vec!["evaluate"];
        expected.extend(Format::ALL.map(Format::name));
        assert_eq!(report, expected);
        assert_eq!(field_names("dataset"), ["source", "split", "limit"]);
        assert_eq!(field_names("evaluate"), ["models", "reference", "metrics", "over"]);
        assert_eq!(field_names("settings"), ["seeds", "device"]);
        assert_eq!(field_names("train"), ["model", "data", "epochs", "batch", "optim", "sched", "augment"]);
        let metrics: Vec<&str> = Metric::DEFAULT.iter().map(|m| m.name()).collect();
        let shown = declaration("evaluate").unwrap().fields[2].absent;
        assert!(matches!(shown, Absent::Written(w) if w == format!("[{}]", metrics.join(", "))), "{shown:?}");
    }
}
