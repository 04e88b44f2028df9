//! `munl completions SHELL` and `munl man`: shell completions and a man page, generated from
//! the command line's own definitions, so they never drift from it.

use std::io::Write;

use clap_complete::Shell;

use super::{EXIT_OK, EXIT_USER};

/// `munl completions SHELL`: the completion script on stdout.
pub(crate) fn completions(mut command: clap::Command, shell: Shell) -> u8 {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "munl", &mut out);
    write(&out)
}

/// `munl man`: the man page (roff, section 1) on stdout.
pub(crate) fn man(command: clap::Command) -> u8 {
    let mut out = Vec::new();
    match clap_mangen::Man::new(command).render(&mut out) {
        Ok(()) => write(&out),
        Err(e) => super::fail(format!("cannot render the man page: {e}")),
    }
}

/// Writes everything at once; a closed pipe ends as every command's does.
fn write(bytes: &[u8]) -> u8 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => super::EXIT_CLOSED_PIPE as u8,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            EXIT_USER
        }
    }
}
