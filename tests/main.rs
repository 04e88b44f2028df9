//! munl's integration tests: one binary, one module per boundary.

mod cli;
mod devices;
mod engine;
mod fake;
mod fmt;
mod fuzz;
mod html;
mod kill;
mod lowering;
mod lsp;
#[cfg(feature = "torch")]
mod profile;
#[cfg(feature = "torch")]
mod python;
#[cfg(feature = "torch")]
mod shared;
#[cfg(feature = "torch")]
mod slurm;
