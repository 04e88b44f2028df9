//! `csv(…)`: images listed in a CSV file with their labels, e.g. written by a script over a
//! folder of photos or exported from a labelling tool.
//!
//! The file is UTF-8 (a byte-order mark is skipped), one record a line (LF or CRLF), fields
//! separated by commas; a field may be quoted with `"` (`""` inside stands for `"`) to hold
//! commas, but cannot span lines. Unquoted fields are trimmed of spaces and tabs; blank lines
//! are skipped. The first line is a header naming the columns (any order, case-insensitive):
//!
//! - `path`: a JPEG or PNG file, relative to the CSV file's folder (an absolute path as is);
//! - `label`: an integer in `0..classes`;
//! - `split` (optional): `train` or `test`, the part the row belongs to.
//!
//! Other columns are ignored. Without a `split` column a `test` share of each class is held out,
//! spread evenly over the class's rows (every fifth row of a class for 0.2). Within each part,
//! rows are stored class-interleaved as `image_folder` stores its files (the k-th row of every
//! class, in label order, before any (k+1)-th; a class's rows in file order), so that `limit`
//! keeps every class. Images are decoded as `image_folder`'s: all of one size, resized to
//! `like`'s input size if they differ from it. Every problem names the file and line.
//!
//! The plan's key covers the CSV and the files its fields name (`plan/fingerprint.rs`, which
//! splits fields by the same rules).

use std::path::{Path, PathBuf};

use super::image::{self, Encoded};
use super::{limited, Raw};
use crate::artifact::NodeFailure;
use crate::plan::csv_fields as fields;

/// The columns read; any others are ignored.
const PATH: &str = "path";
const LABEL: &str = "label";
const SPLIT: &str = "split";

const HEADER_HELP: &str = "the first line of the CSV names its columns: `path` (an image file, relative to the CSV's \
folder), `label` (an integer in 0..classes) and optionally `split` (`train` or `test`), e.g. `path,label,split`";

/// One row, checked.
struct Row {
    /// 1-based line in the file.
    line: usize,
    path: String,
    label: usize,
    test: bool,
}

/// Reads the CSV at `csv` and the images it names: `classes` bounds the labels, `test` is the
/// share of each class held out when there is no `split` column, images are resized to
/// `size × size` if they differ; `limit` as in `Raw::limit`, applied before decoding.
pub(crate) fn read(
    csv: &Path,
    classes: usize,
    test: f64,
    size: usize,
    limit: Option<usize>,
) -> Result<Raw, NodeFailure> {
    let shown = csv.display().to_string();
    if !csv.exists() {
        return Err(NodeFailure::invalid_data(format!("`{shown}` does not exist"))
            .with_help("`path` is a CSV file under the data root ($MUNL_DATA, else data/)"));
    }
    if !csv.is_file() {
        return Err(NodeFailure::invalid_data(format!("`{shown}` is not a file: `csv` reads a CSV file")));
    }
    let bytes = std::fs::read(csv).map_err(|e| NodeFailure::io(format!("cannot read `{shown}`: {e}")))?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        NodeFailure::invalid_data(format!("`{shown}` line {line} is not UTF-8 text"))
    })?;
    let (rows, has_split) = parse(text, classes).map_err(|(line, message)| {
        let failure = NodeFailure::invalid_data(match line {
            Some(line) => format!("`{shown}` line {line}: {message}"),
            None => format!("`{shown}` {message}"),
        });
        if line.is_some_and(|l| l > 1) {
            failure
        } else {
            failure.with_help(HEADER_HELP)
        }
    })?;
    // Every image, in file order (not only those a `limit` keeps, which alone are decoded).
    let dir = csv.parent().unwrap_or(Path::new(""));
    let image = |r: &Row| format!("`{shown}` line {}: image `{}`", r.line, r.path);
    for r in &rows {
        let at = dir.join(&r.path);
        if !at.is_file() {
            let what = if at.exists() { "is not a file" } else { "does not exist" };
            return Err(NodeFailure::invalid_data(format!("{} {what} (`{}`)", image(r), at.display()))
                .with_help("image paths are relative to the CSV file's folder"));
        }
    }
    let (train, test_part): (Vec<Row>, Vec<Row>) =
        if has_split { rows.into_iter().partition(|r| !r.test) } else { hold_out(rows, test) };
    if train.is_empty() {
        return Err(NodeFailure::invalid_data(if has_split {
            format!("`{shown}` has no row whose `split` is `train`")
        } else {
            format!("`{shown}`: `test` = {test} holds out every row, leaving none to train on")
        }));
    }
    let (train, test_part) = (interleaved(train), interleaved(test_part));
    let (keep_train, keep_test) = limited(train.len(), test_part.len(), limit);
    let kept: Vec<&Row> = train[..keep_train].iter().chain(&test_part[..keep_test]).collect();
    let files = kept
        .iter()
        .map(|r| {
            let at: PathBuf = dir.join(&r.path);
            std::fs::read(&at)
                .map_err(|e| NodeFailure::io(format!("{}: cannot read `{}`: {e}", image(r), at.display())))
        })
        .collect::<Result<Vec<Vec<u8>>, NodeFailure>>()?;
    let encoded: Vec<Encoded<'_>> =
        kept.iter().zip(&files).map(|(r, bytes)| Encoded { name: image(r), bytes }).collect();
    let decoded = image::decode_all(&encoded, Some(size))?;
    Ok(Raw {
        pixels: decoded.pixels,
        labels: kept.iter().map(|r| r.label as i64).collect(),
        shape: decoded.shape,
        n_train: keep_train,
        n_test: keep_test,
    })
}

/// The rows of `text` in file order, and whether it has a `split` column; an error is the line
/// (`None`: the whole file) and what is wrong.
fn parse(text: &str, classes: usize) -> Result<(Vec<Row>, bool), (Option<usize>, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err((None, "is empty: it needs a header line such as `path,label` and a row per image".into()));
    };
    let names = fields(header).map_err(|e| (Some(header_line), e))?;
    let column = |want: &str| -> Result<Option<usize>, (Option<usize>, String)> {
        let mut at = names.iter().enumerate().filter(|(_, n)| n.eq_ignore_ascii_case(want)).map(|(i, _)| i);
        match (at.next(), at.next()) {
            (Some(i), None) => Ok(Some(i)),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err((Some(header_line), format!("the header has two `{want}` columns"))),
        }
    };
    let listed = || names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let required = |want: &str| {
        column(want)?.ok_or_else(|| (Some(header_line), format!("no `{want}` column; the header has {}", listed())))
    };
    let (path_at, label_at, split_at) = (required(PATH)?, required(LABEL)?, column(SPLIT)?);
    let mut rows = vec![];
    for (line, text) in lines {
        let at = |message: String| (Some(line), message);
        let f = fields(text).map_err(at)?;
        if f.len() != names.len() {
            return Err(at(format!("the header has {} fields, this line {}", names.len(), f.len())));
        }
        let path = f[path_at].clone();
        if path.is_empty() {
            return Err(at("the `path` is empty".into()));
        }
        let label = match f[label_at].parse::<i64>() {
            Ok(l) if (0..classes as i64).contains(&l) => l as usize,
            Ok(l) => return Err(at(format!("label {l} is not in 0..{classes} (`classes` = {classes})"))),
            Err(_) => return Err(at(format!("label `{}` is not an integer in 0..{classes}", f[label_at]))),
        };
        let test = match split_at {
            None => false,
            Some(i) => match f[i].to_ascii_lowercase().as_str() {
                "train" => false,
                "test" => true,
                _ => return Err(at(format!("split `{}` is neither `train` nor `test`", f[i]))),
            },
        };
        rows.push(Row { line, path, label, test });
    }
    if rows.is_empty() {
        return Err((None, "has a header but no rows".into()));
    }
    Ok((rows, split_at.is_some()))
}

/// Splits `rows` into train and test parts, holding out `share` of each class: with the rows
/// ordered by label (file order within a label), every row at which `⌊(i+1)·k/n⌋` steps up is
/// held out, `k = round(n · share)`: k rows in all, evenly spread, so each class gives its share.
fn hold_out(mut rows: Vec<Row>, share: f64) -> (Vec<Row>, Vec<Row>) {
    rows.sort_by_key(|r| r.label);
    let n = rows.len();
    let k = ((n as f64) * share).round().clamp(0.0, n as f64) as usize;
    let mut train = vec![];
    let mut test = vec![];
    for (i, mut r) in rows.into_iter().enumerate() {
        r.test = (i + 1) * k / n > i * k / n;
        if r.test {
            test.push(r);
        } else {
            train.push(r);
        }
    }
    (train, test)
}

/// `rows` in stored order: the k-th row of every class (in label order) before any (k+1)-th,
/// each class's rows in file order.
fn interleaved(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by_key(|r| r.line);
    let mut seen = std::collections::HashMap::<usize, usize>::new();
    let mut ranked: Vec<(usize, Row)> = rows
        .into_iter()
        .map(|r| {
            let rank = seen.entry(r.label).or_default();
            *rank += 1;
            (*rank, r)
        })
        .collect();
    ranked.sort_by_key(|(rank, r)| (*rank, r.label));
    ranked.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_quote_and_trim() {
        assert_eq!(fields("a,b , c").unwrap(), ["a", "b", "c"]);
        assert_eq!(fields(r#""x, y.png", 3 ,"say ""hi""""#).unwrap(), ["x, y.png", "3", r#"say "hi""#]);
        assert_eq!(fields(",").unwrap(), ["", ""]);
        assert_eq!(fields(r#" "a" , b"#).unwrap(), ["a", "b"]);
        assert!(fields(r#""open, 1"#).unwrap_err().contains("does not close"));
        assert!(fields(r#""a"b,1"#).unwrap_err().contains("field 1 has text after its closing quote"));
    }

    fn rows(labels: &[usize]) -> Vec<Row> {
        labels
            .iter()
            .enumerate()
            .map(|(i, &label)| Row { line: i + 2, path: String::new(), label, test: false })
            .collect()
    }

    #[test]
    fn hold_out_takes_each_class_share_evenly() {
        // Sorted by class, 5 rows each: a last-share split would test class 1 only.
        let (train, test) = hold_out(rows(&[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]), 0.2);
        assert_eq!(test.iter().map(|r| (r.line, r.label)).collect::<Vec<_>>(), [(6, 0), (11, 1)]);
        assert_eq!(train.len(), 8);
        let (train, test) = hold_out(rows(&[1, 0, 1]), 0.0);
        assert_eq!((train.len(), test.len()), (3, 0));
        let (train, test) = hold_out(rows(&[1, 0]), 1.0);
        assert_eq!((train.len(), test.len()), (0, 2));
    }

    #[test]
    fn interleaving_keeps_file_order_within_a_class() {
        let order = interleaved(rows(&[2, 2, 0, 1, 0, 2]));
        assert_eq!(
            order.iter().map(|r| (r.label, r.line)).collect::<Vec<_>>(),
            [(0, 4), (1, 5), (2, 2), (0, 6), (2, 3), (2, 7)]
        );
    }
}
