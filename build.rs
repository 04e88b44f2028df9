//! Link details for libtorch (see the toolchain notes in the README):
//! 1. give the binary an rpath to libtorch, which torch-sys does not do;
//! 2. keep `libtorch_cuda.so` linked although nothing references it directly, or CUDA is
//!    silently unavailable at run time;
//! 3. compile munl's small C++ shim over libtorch's CUDA streams (`src/torch/shim/`), with CUDA
//!    where that libtorch has it (the wheel's `libc10_cuda.so` and the CUDA runtime headers of
//!    its `nvidia` packages), without otherwise (its functions then say so).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rerun-if-changed=src/torch/shim/streams.cpp");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else { return };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    // For the test that the stream shim has CUDA wherever this libtorch does.
    println!("cargo:rustc-env=MUNL_LIBTORCH_LIB={lib}");
    let lib = PathBuf::from(lib);
    let cuda = lib.join("libtorch_cuda.so").exists();
    if cuda {
        // Only where CUDA is used: the worker, and the tests that run torch code.
        for target in ["cargo:rustc-link-arg-bin=munl-torch=", "cargo:rustc-link-arg-tests="] {
            println!("{target}-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
    shim(&lib, cuda);
}

/// Compiles `src/torch/shim/streams.cpp` against libtorch's headers (`lib/../include`).
fn shim(lib: &Path, cuda: bool) {
    let include = lib.parent().map(|p| p.join("include")).unwrap_or_default();
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .file("src/torch/shim/streams.cpp")
        .include(&include)
        .flag("-std=c++17")
        // The PyTorch wheels since 2.7 use the C++11 ABI, as torch-sys finds for 2.11.
        .flag(format!("-D_GLIBCXX_USE_CXX11_ABI={}", std::env::var("LIBTORCH_CXX11_ABI").unwrap_or("1".into())))
        .warnings(false);
    if let Some(runtime) = cuda.then(|| cuda_headers(lib)).flatten() {
        if lib.join("libc10_cuda.so").exists() {
            build.define("MUNL_CUDA", None).include(runtime);
            println!("cargo:rustc-link-search=native={}", lib.display());
            println!("cargo:rustc-link-lib=dylib=c10_cuda");
            println!("cargo:rustc-link-lib=dylib=c10");
        }
    }
    build.compile("munl_shim");
}

/// A folder of complete CUDA runtime headers (`cuda_runtime_api.h` and the `crt/` it includes)
/// beside `site-packages/torch/lib`: the wheel's `nvidia/*/include` (CUDA 13's lacks `crt/`), or
/// the copy Triton, a dependency of the wheel, carries.
fn cuda_headers(lib: &Path) -> Option<PathBuf> {
    let site = lib.parent()?.parent()?;
    let mut candidates: Vec<PathBuf> = std::fs::read_dir(site.join("nvidia"))
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path().join("include"))).collect())
        .unwrap_or_default();
    candidates.sort();
    candidates.push(site.join("triton/backends/nvidia/include"));
    let found = candidates
        .into_iter()
        .find(|inc| inc.join("cuda_runtime_api.h").exists() && inc.join("crt/host_config.h").exists());
    if found.is_none() {
        println!("cargo:warning=no complete CUDA runtime headers beside libtorch: munl's nodes share the default CUDA stream");
    }
    found
}
