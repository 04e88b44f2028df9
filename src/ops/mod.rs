//! The catalogue: every operation munl knows, with its version, fields, defaults, search space
//! and export rule (`spec` the shape of an entry, `catalogue` the table, `methods` the
//! unlearning methods, `limits` the bounds of every number with their reasons); the facts of each
//! dataset source (`datasets`); the declarations of a file and their own fields (`decls`); the
//! metrics and report formats as types. A leaf: it imports no other phase.
//!
//! Lowering checks a file against it, planning puts `name` and `version` into keys, `munl methods`
//! prints it. Bumping an op's `version` invalidates exactly that op's cached results.

mod catalogue;
mod datasets;
mod decls;
mod format;
pub(crate) mod limits;
mod methods;
mod metric;
mod spec;
mod value;

#[cfg(all(test, feature = "torch"))]
pub(crate) use catalogue::defaults;
pub(crate) use catalogue::{all, find, in_category, version};
pub(crate) use datasets::{download, facts, Download};
#[cfg(feature = "torch")]
pub(crate) use datasets::{Augment, Facts, OfficialFile};
pub(crate) use decls::{field_names, Absent, DeclSpec, ALL as DECLARATIONS};
pub(crate) use format::Format;
pub(crate) use metric::Metric;
pub(crate) use spec::{Category, Default, Export, FieldSpec, OpSpec, Space, Ty};
pub(crate) use value::Sweep;
pub use value::{Call, Value};
