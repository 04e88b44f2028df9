//! Whether munl's own output on stderr (diagnostics) and clap's help and errors are coloured:
//! `--color auto|always|never`, with `auto` following no-color.org and the `CLICOLOR_FORCE`
//! convention.
//!
//! The choice is made once, right after the command line is parsed, and read wherever
//! something is rendered; a process-wide setting rather than a parameter, since every command
//! renders diagnostics through `load`.

use std::ffi::OsStr;
use std::io::IsTerminal;
use std::sync::OnceLock;

use clap::ValueEnum;

/// The `--color` option.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Choice {
    /// Colour when stderr is a terminal and `NO_COLOR` is unset or empty (`CLICOLOR_FORCE`
    /// forces it).
    #[default]
    Auto,
    /// Always colour, whatever stderr is and whatever `NO_COLOR` says.
    Always,
    /// Never colour.
    Never,
}

impl Choice {
    /// The same choice for clap's help and errors (clap's `auto` reads the same variables).
    pub(crate) fn for_clap(self) -> clap::ColorChoice {
        match self {
            Choice::Auto => clap::ColorChoice::Auto,
            Choice::Always => clap::ColorChoice::Always,
            Choice::Never => clap::ColorChoice::Never,
        }
    }

    /// Whether to colour what goes to stderr, given the environment's `NO_COLOR` and
    /// `CLICOLOR_FORCE` and whether stderr is a terminal. `NO_COLOR` set to anything but the
    /// empty string wins over `CLICOLOR_FORCE` (set to anything but empty or `0`); `always`
    /// and `never` win over both.
    pub(crate) fn resolve(self, no_color: Option<&OsStr>, clicolor_force: Option<&OsStr>, terminal: bool) -> bool {
        match self {
            Choice::Always => true,
            Choice::Never => false,
            Choice::Auto => {
                if no_color.is_some_and(|v| !v.is_empty()) {
                    false
                } else if clicolor_force.is_some_and(|v| !v.is_empty() && v != "0") {
                    true
                } else {
                    terminal
                }
            }
        }
    }
}

static STDERR: OnceLock<bool> = OnceLock::new();

/// Settles whether stderr is coloured for the rest of the process (the first call wins).
pub(crate) fn set(choice: Choice) {
    let on = choice.resolve(
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("CLICOLOR_FORCE").as_deref(),
        std::io::stderr().is_terminal(),
    );
    let _ = STDERR.set(on);
}

/// Whether what munl writes to stderr is coloured; `auto` when `set` was never called.
pub(crate) fn stderr() -> bool {
    *STDERR.get_or_init(|| {
        Choice::Auto.resolve(
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("CLICOLOR_FORCE").as_deref(),
            std::io::stderr().is_terminal(),
        )
    })
}

/// The last `--color VALUE` or `--color=VALUE` before a `--`, read before clap parses: clap's
/// help and errors need the choice while parsing. An unknown value is left to clap to refuse.
pub(crate) fn prescan<S: AsRef<OsStr>>(args: &[S]) -> Choice {
    let mut choice = Choice::Auto;
    let mut args = args.iter().map(|a| a.as_ref().to_str().unwrap_or(""));
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let value = match arg.strip_prefix("--color") {
            Some("") => args.next(),
            Some(rest) => rest.strip_prefix('='),
            None => None,
        };
        if let Some(c) = value.and_then(|v| Choice::from_str(v, false).ok()) {
            choice = c;
        }
    }
    choice
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<&OsStr> {
        Some(OsStr::new(s))
    }

    #[test]
    fn auto_follows_no_color_then_clicolor_force_then_the_terminal() {
        let auto = Choice::Auto;
        assert!(auto.resolve(None, None, true));
        assert!(!auto.resolve(None, None, false));
        assert!(!auto.resolve(os("1"), None, true));
        assert!(auto.resolve(os(""), None, true), "an empty NO_COLOR is unset");
        assert!(auto.resolve(None, os("1"), false));
        assert!(!auto.resolve(None, os("0"), false));
        assert!(!auto.resolve(os("1"), os("1"), true), "NO_COLOR wins over CLICOLOR_FORCE");
    }

    #[test]
    fn always_and_never_win_over_the_environment() {
        assert!(Choice::Always.resolve(os("1"), None, false));
        assert!(!Choice::Never.resolve(None, os("1"), true));
    }

    #[test]
    fn prescan_takes_the_last_color_before_a_double_dash() {
        assert_eq!(prescan(&["munl", "check", "f"]), Choice::Auto);
        assert_eq!(prescan(&["munl", "--color", "never", "check"]), Choice::Never);
        assert_eq!(prescan(&["munl", "--color=always", "check", "--color", "never"]), Choice::Never);
        assert_eq!(prescan(&["munl", "--color=always", "--", "--color=never"]), Choice::Always);
        assert_eq!(prescan(&["munl", "--color", "mauve"]), Choice::Auto);
        assert_eq!(prescan(&["munl", "--colorful"]), Choice::Auto);
    }
}
