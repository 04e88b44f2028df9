//! Link details for libtorch (see the toolchain notes in the README):
//! 1. give the binary an rpath to libtorch, which torch-sys does not do;
//! 2. keep `libtorch_cuda.so` linked although nothing references it directly, or CUDA is
//!    silently unavailable at run time.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
            // Only where CUDA is used: the worker, and the tests that run torch code.
            for target in ["cargo:rustc-link-arg-bin=munl-torch=", "cargo:rustc-link-arg-tests="] {
                println!("{target}-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
            }
        }
    }
}
