//! Lowering diagnostics: every name, field and type problem of a file, with spans.

use miette::Diagnostic;
use thiserror::Error;

use crate::span::Span;

/// A problem found while resolving a parsed file. All of a file's problems are collected.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq)]
pub(crate) enum LowerError {
    #[error("unknown name `{name}`")]
    #[diagnostic(code(munl::lower::unknown_name))]
    UnknownName {
        name: String,
        #[label("no {wanted} is called `{name}`")]
        span: Span,
        wanted: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` is declared twice")]
    #[diagnostic(
        code(munl::lower::duplicate_name),
        help("names are unique across declarations; a `report` may share the name of the `evaluate` it reports")
    )]
    DuplicateName {
        name: String,
        #[label("declared again here")]
        span: Span,
        #[label("first declared here")]
        first: Span,
    },

    #[error("`{name}` is a {found}, not a {wanted}")]
    #[diagnostic(code(munl::lower::wrong_kind))]
    WrongKind {
        name: String,
        found: String,
        wanted: String,
        #[label("expected a {wanted} here")]
        span: Span,
        #[label("declared here")]
        decl: Span,
    },

    #[error("unknown field `{field}` in {context}")]
    #[diagnostic(code(munl::lower::unknown_field))]
    UnknownField {
        field: String,
        context: String,
        #[label("not a field of {context}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("`{field}` is set twice")]
    #[diagnostic(code(munl::lower::duplicate_field))]
    DuplicateField {
        field: String,
        #[label("set again here")]
        span: Span,
        #[label("first set here")]
        first: Span,
    },

    #[error("{context} needs `{field}`")]
    #[diagnostic(code(munl::lower::missing_field))]
    MissingField {
        field: String,
        context: String,
        #[label("`{field}` is missing")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("`{field}` expects {expected}")]
    #[diagnostic(code(munl::lower::wrong_type))]
    WrongType {
        field: String,
        expected: String,
        #[label("found {found}")]
        span: Span,
        found: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{field}` is out of range: {message}")]
    #[diagnostic(code(munl::lower::out_of_range))]
    OutOfRange {
        field: String,
        message: String,
        #[label("{message}")]
        span: Span,
        /// Where the bound comes from, for munl's own limits.
        #[help]
        help: Option<String>,
    },

    #[error("model `{model}` cannot take the images of dataset `{dataset}`: {reason}")]
    #[diagnostic(code(munl::lower::input_size))]
    InputSize {
        model: String,
        dataset: String,
        reason: String,
        #[label("trains `{model}` on `{dataset}`")]
        span: Span,
        #[label("{needs}")]
        model_span: Span,
        needs: String,
        #[label("{has}")]
        dataset_span: Span,
        has: String,
        #[help]
        help: Option<String>,
    },

    #[error("the plan would have {nodes} nodes, more than {limit}")]
    #[diagnostic(code(munl::lower::plan_too_large))]
    PlanTooLarge {
        nodes: usize,
        limit: usize,
        #[label("{what}")]
        span: Span,
        what: String,
        #[help]
        help: Option<String>,
    },

    #[error("unknown {category} `{name}`")]
    #[diagnostic(code(munl::lower::unknown_op))]
    UnknownOp {
        name: String,
        category: String,
        #[label("not known")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` inherits from itself: {chain}")]
    #[diagnostic(
        code(munl::lower::inheritance_cycle),
        help("break the cycle by giving one declaration a constructor head instead of a parent")
    )]
    InheritanceCycle {
        name: String,
        /// Every edge of the cycle, `a → b → … → a`.
        chain: String,
        #[label("this edge closes the cycle")]
        span: Span,
        #[label(collection, "inherits")]
        edges: Vec<miette::LabeledSpan>,
    },

    #[error("dimension `{name}`: {message}")]
    #[diagnostic(code(munl::lower::bad_dimension))]
    BadDimension {
        name: String,
        message: String,
        #[label("{message}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("dimension `{name}` is not used")]
    #[diagnostic(
        code(munl::lower::unused_dimension),
        help("give a field its values (`forget: {name}`), or remove the dimension")
    )]
    UnusedDimension {
        name: String,
        #[label("no field takes its values")]
        span: Span,
    },

    #[error("two dimensions named `{name}`")]
    #[diagnostic(
        code(munl::lower::dimension_twice),
        help("an inline `each(…)` is named after its declaration and field; name one of them with `dim`")
    )]
    DimensionTwice {
        name: String,
        #[label("the second")]
        span: Span,
        #[label("the first")]
        first: Span,
    },

    #[error("evaluate `{evaluate}` aggregates over `{dim}`, which none of its models varies along")]
    #[diagnostic(code(munl::lower::not_along))]
    NotAlong {
        evaluate: String,
        dim: String,
        #[label("not a dimension of its models")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("unknown setting `{name}`")]
    #[diagnostic(code(munl::lower::unknown_setting))]
    UnknownSetting {
        name: String,
        #[label("settings are `seeds` and `device`")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("only an `unlearn` method's hyper-parameters can be searched")]
    #[diagnostic(
        code(munl::lower::search_unavailable),
        help("give the field a fixed value, or search it inside an `unlearn` block with `tune = search(…)`")
    )]
    SearchUnavailable {
        #[label("a searched field")]
        span: Span,
    },

    #[error("report path `{path}` {reason}")]
    #[diagnostic(
        code(munl::lower::bad_path),
        help("report paths are relative to the .munl file and stay inside its folder")
    )]
    BadPath {
        path: String,
        reason: String,
        #[label("{reason}")]
        span: Span,
    },

    #[error("cannot import `{path}`: {reason}")]
    #[diagnostic(code(munl::lower::bad_import))]
    BadImport {
        path: String,
        reason: String,
        #[label("{reason}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("report `{report}`: {message}")]
    #[diagnostic(code(munl::lower::bad_evaluations))]
    BadEvaluations {
        report: String,
        message: String,
        #[label("{message}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("Python file `{path}`: {reason}")]
    #[diagnostic(code(munl::lower::bad_python))]
    BadPython {
        path: String,
        reason: String,
        #[label("{reason}")]
        span: Span,
        #[help]
        help: Option<String>,
    },

    #[error("data path `{path}` does not exist")]
    #[diagnostic(code(munl::lower::missing_data))]
    MissingData {
        path: String,
        #[label("{label}")]
        span: Span,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("data path `{path}` {reason}")]
    #[diagnostic(
        code(munl::lower::bad_data_path),
        help("relative data paths are under the data root ($MUNL_DATA, else data/), those starting with `./` under the `.munl` file's folder; data elsewhere takes an absolute path")
    )]
    BadDataPath {
        path: String,
        reason: String,
        #[label("{reason}")]
        span: Span,
    },
}
