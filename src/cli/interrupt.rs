//! Ctrl-C and termination signals during `munl run`.
//!
//! The first SIGINT, SIGTERM or SIGHUP stops the run cleanly: nothing new starts, the worker is
//! killed (its nodes are abandoned, their temporary folders removed), everything committed
//! stays, and `munl` exits with 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM), as
//! a shell reports a process the signal ended. A second signal exits at once; whatever was in
//! flight is then left in the cache's `tmp/`, never read as a result, for `munl cache gc`.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// The exit status of a run stopped by `signal`.
pub(crate) fn exit_code(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

/// The signal's name, for messages.
pub(crate) fn name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT (Ctrl-C)".into(),
        SIGTERM => "SIGTERM".into(),
        SIGHUP => "SIGHUP".into(),
        other => format!("signal {other}"),
    }
}

/// Runs `body` with the signals above delivered to `on_first` (once) on a thread of their own.
/// Without signal handling (it could not be installed), `body` runs with the default actions.
pub(crate) fn while_handling<T>(on_first: impl Fn(i32) + Sync, body: impl FnOnce() -> T) -> T {
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return body();
    };
    let handle = signals.handle();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut seen = false;
            for signal in signals.forever() {
                if seen {
                    eprintln!("munl: {} again: exiting now", name(signal));
                    std::process::exit(exit_code(signal).into());
                }
                seen = true;
                on_first(signal);
            }
        });
        let result = body();
        handle.close();
        result
    })
}
