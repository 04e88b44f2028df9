//! munl's integration tests: one binary, one module per boundary.

mod cli;
mod engine;
mod fake;
mod fuzz;
mod kill;
mod lowering;
mod shared;
