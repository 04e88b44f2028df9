//! munl's compute worker: the only executable that loads libtorch (see `exec::worker`).

fn main() -> std::process::ExitCode {
    munl::worker_main()
}
