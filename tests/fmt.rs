//! `munl fmt`: the examples are formatted, files are rewritten only when they change, `--check`
//! changes nothing, and a file that does not parse is left alone.

use std::path::Path;
use std::process::{Command, Output};

fn munl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_munl")).args(args).current_dir(dir).output().expect("the munl binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const MESSY: &str = "seeds = 0..2; device = cpu\ntrain t {epochs=3}\n";
const TIDY: &str = "seeds  = 0..2\ndevice = cpu\ntrain t { epochs = 3 }\n";

#[test]
fn every_example_is_formatted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = munl(root, &["fmt", "--check", "experiments"]);
    assert_eq!(out.status.code(), Some(0), "run `munl fmt experiments`:\n{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn fmt_rewrites_changed_files_and_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/messy.munl"), MESSY).unwrap();
    std::fs::write(dir.path().join("tidy.munl"), TIDY).unwrap();
    std::fs::write(dir.path().join("notes.txt"), MESSY).unwrap();
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt as _;
        let path = dir.path().join("sub/messy.munl");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        move || std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
    };
    let out = munl(dir.path(), &["fmt", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listed = text(&out.stdout);
    assert!(listed.contains("messy.munl") && !listed.contains("tidy.munl"), "{listed}");
    assert_eq!(std::fs::read_to_string(dir.path().join("sub/messy.munl")).unwrap(), TIDY);
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), MESSY);
    #[cfg(unix)]
    assert_eq!(mode(), 0o640, "the rewritten file keeps its permissions");
    // Nothing left behind, and a second run changes nothing.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("sub")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["messy.munl"]);
    let again = munl(dir.path(), &["fmt", "sub/messy.munl", "tidy.munl"]);
    assert_eq!((again.status.code(), text(&again.stdout)), (Some(0), String::new()));
}

#[test]
fn check_changes_nothing_shows_the_difference_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("messy.munl"), MESSY).unwrap();
    std::fs::write(dir.path().join("tidy.munl"), TIDY).unwrap();
    let out = munl(dir.path(), &["fmt", "--check", "messy.munl", "tidy.munl"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "messy.munl\n@@ line 1 @@\n-seeds = 0..2; device = cpu\n-train t {epochs=3}\n\
         +seeds  = 0..2\n+device = cpu\n+train t { epochs = 3 }\n"
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("messy.munl")).unwrap(), MESSY);
    let clean = munl(dir.path(), &["fmt", "--check", "tidy.munl"]);
    assert_eq!(clean.status.code(), Some(0));
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "train t {\n  epochs 5\n}\n";
    std::fs::write(dir.path().join("broken.munl"), broken).unwrap();
    std::fs::write(dir.path().join("messy.munl"), MESSY).unwrap();
    let out = munl(dir.path(), &["fmt", "broken.munl", "messy.munl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("munl::syntax::unexpected"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("broken.munl")).unwrap(), broken);
    // The other files are still formatted.
    assert_eq!(std::fs::read_to_string(dir.path().join("messy.munl")).unwrap(), TIDY);
}
