//! The catalogue: every operation munl knows, with its version, fields, defaults and search space.
//!
//! Lowering checks a file against it, planning puts `name` and `version` into keys, `munl methods`
//! prints it. Bumping an op's `version` invalidates exactly that op's cached results.

mod catalogue;
mod downloads;
mod methods;
mod spec;
mod value;

pub(crate) use catalogue::{find, in_category, ALL};
pub(crate) use downloads::{download, Download};
pub(crate) use spec::{Category, Default, Export, FieldSpec, OpSpec, Space, Ty};
pub use value::{Call, Value};
