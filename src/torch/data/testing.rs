//! Test access to the real datasets (`$MUNL_DATA`, set by `scripts/with-torch` where a data
//! folder is known).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// `$MUNL_DATA/<relative>` if it exists. Otherwise the calling test is skipped: it returns
/// `None` after one line on stderr naming the missing file (written past the test harness's
/// capture, so a skip is always visible) — unless `MUNL_REQUIRE_DATA` is set, as CI sets it,
/// where a missing dataset fails the test instead of silently testing less.
pub(crate) fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = std::env::var_os("MUNL_DATA").map(|root| Path::new(&root).join(relative));
    let missing = match &path {
        Some(p) if p.exists() => return path,
        Some(p) => format!("{} does not exist", p.display()),
        None => format!("MUNL_DATA is not set (it should hold {relative})"),
    };
    assert!(std::env::var_os("MUNL_REQUIRE_DATA").is_none(), "MUNL_REQUIRE_DATA is set but {missing}");
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr(), "skipped: {test}: {missing}");
    None
}
