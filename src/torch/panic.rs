//! What a panic inside a node becomes. tch panics where libtorch reports an error (its methods
//! without the `f_` prefix unwrap), so the text is usually ``called `Result::unwrap()` on an
//! `Err` value: Torch("…")`` around libtorch's message, its C++ source location and dozens of
//! stack frames. The failure keeps libtorch's message — its first line — unless the user asks
//! for everything with `MUNL_BACKTRACE=1`.

use crate::artifact::{panic_text, NodeFailure};

/// The environment variable that keeps libtorch's full text, C++ backtrace included.
pub(crate) const BACKTRACE_VAR: &str = "MUNL_BACKTRACE";

/// What tch's `unwrap` of a libtorch error starts with.
const UNWRAPPED: &str = "called `Result::unwrap()` on an `Err` value: ";

/// Where libtorch's message ends and its source location and backtrace begin.
const TRACE: &str = "Exception raised from ";

/// Whether the user asked for backtraces (`MUNL_BACKTRACE` set to anything but `0`).
pub(crate) fn backtrace_wanted() -> bool {
    std::env::var_os(BACKTRACE_VAR).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Ends the node being computed with `failure`, from code that cannot return one (a layer's
/// forward pass): the backend's `catch_unwind` turns it back into the node's failure.
pub(crate) fn abort(failure: NodeFailure) -> ! {
    std::panic::panic_any(failure)
}

/// The failure of a node whose computation panicked with `payload`.
pub(crate) fn failure_of(payload: &(dyn std::any::Any + Send)) -> NodeFailure {
    if let Some(f) = payload.downcast_ref::<NodeFailure>() {
        return f.clone();
    }
    failure(panic_text(payload).unwrap_or("unknown panic"), backtrace_wanted())
}

/// The failure of a node that panicked with `text`; `full` keeps libtorch's backtrace.
pub(crate) fn failure(text: &str, full: bool) -> NodeFailure {
    let Some(torch) = libtorch_text(text) else {
        // A panic of munl's own code: its message is all there is.
        return NodeFailure::new(format!("internal error: {text}"))
            .with_help("this is a bug in munl; please report it with the .munl file");
    };
    let message = if full { torch.trim_end().to_string() } else { first_line(&torch).to_string() };
    let help = format!(
        "munl checks shapes and sizes before running, so this is likely a bug in munl: please report it \
         with the .munl file{}",
        if full { "" } else { "; set MUNL_BACKTRACE=1 to see libtorch's C++ backtrace" }
    );
    NodeFailure::new(format!("libtorch failed: {message}")).with_help(help)
}

/// libtorch's text in a panic message, unescaped, if the panic came from a libtorch error.
fn libtorch_text(text: &str) -> Option<String> {
    let rest = text.strip_prefix(UNWRAPPED).unwrap_or(text);
    if let Some(quoted) = rest.strip_prefix("Torch(\"").and_then(|r| r.strip_suffix("\")")) {
        return Some(unescape(quoted));
    }
    // tch also panics with libtorch's text as it is (e.g. from its `Display`).
    rest.contains(TRACE).then(|| rest.to_string())
}

/// The message proper: the first non-empty line before the source location and backtrace.
fn first_line(torch: &str) -> &str {
    let message = torch.split(TRACE).next().unwrap_or(torch);
    message.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("(no message)")
}

/// Undoes Rust's `Debug` escaping of a string (`\n`, `\"`, `\\`, `\u{…}`, …).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('u') => {
                let code: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                out.extend(u32::from_str_radix(&code, 16).ok().and_then(char::from_u32));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic as tch makes it from a libtorch error (shortened; the real one has 22 frames).
    const POOL: &str = concat!(
        "called `Result::unwrap()` on an `Err` value: Torch(\"Given input size: (4x1x1). Calculated output size: ",
        "(4x0x0). Output size is too small\\nException raised from pool2d_shape_check at ",
        "/pytorch/aten/src/ATen/native/Pool.h:160 (most recent call first):\\nframe #0: ",
        "c10::Error::Error(c10::SourceLocation, std::__cxx11::basic_string<char, std::char_traits<char>, ",
        "std::allocator<char> >) + 0x9d (0x7f333b37305d in libc10.so)\\nframe #1: <unknown function> + 0x1e54e87\\n\")"
    );

    #[test]
    fn a_libtorch_error_keeps_its_message_and_drops_the_backtrace() {
        let f = failure(POOL, false);
        assert_eq!(
            f.message,
            "libtorch failed: Given input size: (4x1x1). Calculated output size: (4x0x0). Output size is too small"
        );
        assert!(f.help.as_deref().is_some_and(|h| h.contains("MUNL_BACKTRACE=1")), "{f:?}");
    }

    #[test]
    fn asked_for_it_keeps_the_backtrace_unescaped() {
        let f = failure(POOL, true);
        assert!(f.message.contains("Output size is too small\nException raised from pool2d_shape_check"), "{f:?}");
        assert!(f.message.contains("\nframe #1: <unknown function>"), "{f:?}");
        assert!(!f.message.contains("\\n") && !f.message.ends_with('\n'), "{f:?}");
        assert!(f.help.as_deref().is_some_and(|h| !h.contains("MUNL_BACKTRACE")), "{f:?}");
    }

    #[test]
    fn a_panic_of_munl_itself_is_an_internal_error() {
        let f = failure("capacity overflow", false);
        assert_eq!(f.message, "internal error: capacity overflow");
        assert!(!f.message.contains("libtorch"));
    }

    #[test]
    fn a_failure_raised_inside_a_computation_is_kept_as_it_is() {
        let raised = NodeFailure::refused("no").with_help("because");
        let caught = std::panic::catch_unwind(|| abort(raised.clone())).expect_err("aborts");
        assert_eq!(failure_of(&*caught), raised);
        let caught = std::panic::catch_unwind(|| panic!("index out of bounds")).expect_err("panics");
        assert_eq!(failure_of(&*caught).message, "internal error: index out of bounds");
    }

    #[test]
    fn escapes_are_undone() {
        assert_eq!(unescape(r#"a\"b\\c\td\u{e9}\n"#), "a\"b\\c\td\u{e9}\n");
    }
}
