//! The lock over libtorch's global random generators, shared by everything that draws from them:
//! seeded model initialisation (`init`), TinyViT's drop-path masks, the methods' seeded draws
//! (`methods::Ctx::seeded`) and tests or benchmarks that draw inputs.
//!
//! Why a lock: seeding and drawing are two steps on process-wide state (`tch::manual_seed`
//! reseeds the default CPU generator and every CUDA one), and worker threads (`--jobs`, parallel
//! tests) share that state. A draw by another thread between someone's seed and their draws
//! shifts the stream they read, so their weights or noise would depend on scheduling. Every draw
//! from the global generators therefore holds this lock, the unseeded ones too (a drop-path mask
//! drawn mid-initialisation would change the initial weights).
//!
//! Why not a private generator per model: libtorch has one (`at::make_generator<
//! at::CPUGeneratorImpl>(seed)` yields the same stream as the global CPU generator seeded with
//! `seed`, so the weights would stay bit-identical), but tch 0.24 cannot reach it. Its bindings
//! call every sampling op without the optional `Generator` argument (`atg_uniform_`,
//! `atg_normal_`, `atg_bernoulli_float_`, `atg_randperm`, `atg_randn`, `atg_randint` all draw from
//! the default generator), it has no generator type, no way to save or restore a generator's
//! state, and its only seeding entry is `manual_seed` (`at_manual_seed` → `torch::manual_seed`).
//!
//! What would remove it: bindings that take a generator (a tch release exposing `Generator` and
//! the ops' generator overloads). Then `init` would draw from its own generator seeded with the
//! model seed, `Ctx::seeded` from one seeded per draw and drop path from one of its own, and the
//! lock could go once nothing calls `tch::manual_seed` or draws from the default generators.

use std::sync::Mutex;

/// Held across every seeding of and draw from libtorch's global generators (see the module).
pub(crate) static GLOBAL_RNG: Mutex<()> = Mutex::new(());
