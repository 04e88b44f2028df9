//! munl's compute worker: the only executable that loads libtorch (see `backend::protocol`).

fn main() -> std::process::ExitCode {
    munl::worker_main()
}
