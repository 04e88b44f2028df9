//! `munl run --timings`: the phases of the trainings and methods computed land in their
//! `run.json`, and the run says where the time went, by op.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(["run", "toy.munl", "--device", "cpu"])
        .args(args)
        .current_dir(dir)
        .env("MUNL_CACHE", dir.join("cache"))
        .env("TORCH_CPP_LOG_LEVEL", "ERROR")
        .env_remove("MUNL_TIMINGS")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn a_profiled_run_records_its_phases_and_says_where_the_time_went() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("toy.munl"), include_str!("fixtures/toy.munl")).unwrap();
    let (code, err) = run(dir.path(), &["--timings", "ft"]);
    assert_eq!(code, Some(0), "{err}");
    let table = err.split("where the time went").nth(1).unwrap_or_else(|| panic!("no table:\n{err}"));
    let row = |op: &str| table.lines().find(|l| l.starts_with(op)).unwrap_or_else(|| panic!("no `{op}` row:\n{table}"));
    assert!(row("train").split_whitespace().nth(1) == Some("2"), "the originals of 2 seeds: {}", row("train"));
    assert!(row("finetune").contains('%'), "{table}");
    // The phases are in the run's record, and account for its time.
    let show = Command::new(env!("CARGO_BIN_EXE_munl"))
        .args(["show", "toy.munl", "train original [seed=0]", "--json"])
        .current_dir(dir.path())
        .env("MUNL_CACHE", dir.path().join("cache"))
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&show.stdout);
    let at = shown.find("\"phases\"").unwrap_or_else(|| panic!("no phases in:\n{shown}"));
    for phase in ["data", "train_forward", "eval_forward", "backward", "optimizer", "other"] {
        assert!(shown[at..].contains(&format!("\"{phase}\"")), "{shown}");
    }
    // Nothing computed: nothing to profile; an unprofiled run records no phases.
    let (code, err) = run(dir.path(), &["--timings", "ft"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("nothing to profile"), "{err}");
    let (code, err) = run(dir.path(), &["ga"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("where the time went"), "{err}");
}
