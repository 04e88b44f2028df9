//! `file://` URIs, as editors name documents, to paths and back: a document's path is what its
//! relative imports, `./` data folders and report paths resolve against.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types::Uri;

/// The path a `file:` URI names (percent-escapes decoded), or `None` for another scheme
/// (`untitled:`) or a URI that names no local file.
pub(crate) fn to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///x` has an empty authority, `file://localhost/x` the local host; others are remote.
    let path = match rest.find('/') {
        Some(0) => rest,
        Some(i) if rest[..i].eq_ignore_ascii_case("localhost") => &rest[i..],
        _ => return None,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = decode(path)?;
    let text = String::from_utf8(bytes).ok()?;
    Some(PathBuf::from(text))
}

/// The `file:` URI of an absolute path (relative paths are taken from the current folder).
pub(crate) fn from_path(path: &Path) -> Option<Uri> {
    let path = std::path::absolute(path).ok()?;
    let mut out = String::from("file://");
    for byte in path.to_str()?.bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Uri::from_str(&out).ok()
}

/// Decodes `%XX` escapes; `None` for a malformed one.
fn decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        Uri::from_str(s).unwrap()
    }

    #[test]
    fn file_uris_are_paths_with_escapes_decoded() {
        assert_eq!(to_path(&uri("file:///home/a/x.munl")), Some(PathBuf::from("/home/a/x.munl")));
        assert_eq!(to_path(&uri("file:///home/a%20b/%C2%B1.munl")), Some(PathBuf::from("/home/a b/±.munl")));
        assert_eq!(to_path(&uri("file://localhost/x.munl")), Some(PathBuf::from("/x.munl")));
        assert_eq!(to_path(&uri("file://server/x.munl")), None);
        assert_eq!(to_path(&uri("untitled:Untitled-1")), None);
    }

    #[test]
    fn paths_round_trip_through_uris() {
        let path = PathBuf::from("/tmp/exp riments/±/a.munl");
        let u = from_path(&path).unwrap();
        assert_eq!(u.as_str(), "file:///tmp/exp%20riments/%C2%B1/a.munl");
        assert_eq!(to_path(&u), Some(path));
    }
}
