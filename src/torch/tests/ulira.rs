//! U-LiRA's `predict` and `membership` nodes on the synthetic fixture: scores of every
//! official-train sample, and the attack over a family of runs on `lira` splits.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tch::{Device, Kind, Tensor};

use super::{cnn_init, cpu, fixture, float, int, node, run, run_reporting, TorchBackend};
use crate::artifact::{Attack, DatasetInfo, Membership};
use crate::digest::Key;
use crate::ops::Value;
use crate::plan::{Node, NodeKind};
use crate::stats::lira::lira_split;
use crate::stats::split::Split;
use crate::stats::ulira::PoolScores;
use crate::torch::data::resident::Resident;
use crate::torch::data::store;
use crate::torch::metrics::ulira::scores_in;
use crate::torch::models;
use crate::torch::split;

/// The `shape` field of a synthetic dataset: `c × side × side`.
fn shape(c: i64, side: i64) -> Value {
    Value::List(vec![int(c), int(side), int(side)])
}

/// A measurement node of `op` with its own key (`node` keys by fields, and these have none).
fn measure(op: &str, name: &str) -> Node {
    let mut n = node(NodeKind::Measure, op, &[], Some(0));
    n.key = Key::of(format!("{op} {name}").as_bytes());
    n
}

fn read_scores(dir: &Path) -> PoolScores {
    let bytes = std::fs::read(dir.join("scores.safetensors")).expect("scores.safetensors");
    PoolScores::from_safetensors(&bytes).expect("scores parse")
}

/// A `predict` node on `model` over the fixture's data.
fn predict(b: &TorchBackend, root: &Path, name: &str, model: &Path, data: &Path, split: &Path) -> PathBuf {
    run(b, root, &measure("predict", name), &[("model", model), ("data", data), ("split", split)]).expect("predict")
}

/// Runs a `membership` node over `(scores, split)` folders, input i as `{i}/scores`, `{i}/split`.
fn membership(b: &TorchBackend, root: &Path, name: &str, runs: &[(PathBuf, PathBuf)]) -> Result<Membership, String> {
    let roles: Vec<(String, String)> = (0..runs.len()).map(|i| (format!("{i}/scores"), format!("{i}/split"))).collect();
    let inputs: Vec<(&str, &Path)> = roles
        .iter()
        .zip(runs)
        .flat_map(|((rs, rp), (s, p))| [(rs.as_str(), s.as_path()), (rp.as_str(), p.as_path())])
        .collect();
    let out = run(b, root, &measure("membership", name), &inputs).map_err(|e| e.message)?;
    Ok(store::read_json(&out.join("membership.json")).expect("membership.json"))
}

/// Every number of an attack is a share, and its cases are the ones the splits name.
#[track_caller]
fn check_attack(a: &Attack, splits: &[Split], n_train: usize) {
    let forgotten: usize = splits.iter().map(|s| s.forget.len()).sum();
    let never_seen: usize = splits.iter().map(|s| s.test.len()).sum();
    let scored: BTreeSet<i64> = splits.iter().flat_map(|s| s.forget.iter().chain(&s.test)).copied().collect();
    assert_eq!((a.forgotten_cases, a.never_seen_cases, a.samples), (forgotten, never_seen, scored.len()), "{a:?}");
    assert!(a.samples < n_train, "the LiRA validation samples are never scored: {a:?}");
    for share in [a.nan_fraction, a.never_seen_nan_fraction].into_iter().flatten() {
        assert!((0.0..=1.0).contains(&share), "{a:?}");
    }
    for e in [a.mean_p, a.balanced_accuracy, a.auc] {
        assert!(e.value.is_none_or(|v| (0.0..=1.0).contains(&v)), "{a:?}");
        assert!(e.ci95.is_none_or(|c| c >= 0.0), "{a:?}");
    }
}

/// Six runs (shadows 0..3 × draws 0..2) on `lira` splits forgetting half of IN, each with its
/// own model (run 0 the trained fixture, the others initialisations of different seeds): the
/// scores cover exactly the train part and agree with the model run sample by sample, and the
/// attack counts exactly the cases the splits name.
#[test]
fn ulira_predicts_the_train_part_and_attacks_a_family() {
    let f = fixture();
    let b = cpu();
    let root = tempfile::tempdir().expect("temp dir");
    let root = root.path();
    let info: DatasetInfo = store::read_json(&f.data.join("dataset.json")).expect("dataset.json");
    let mut runs = vec![];
    let mut splits = vec![];
    for (i, (shadow, draw)) in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)].into_iter().enumerate() {
        let sp = node(
            NodeKind::Split,
            "lira",
            &[("shadow", int(shadow)), ("draw", int(draw)), ("forget", float(0.5))],
            None,
        );
        let split_dir = run(&b, root, &sp, &[("data", &f.data)]).expect("lira split");
        let model = if i == 0 {
            f.trained.clone()
        } else {
            let init = node(NodeKind::Init, "cnn", &[("width", int(8)), ("classes", int(4))], Some(i as u64));
            run(&b, root, &init, &[]).expect("init")
        };
        let scores = predict(&b, root, &format!("run {i}"), &model, &f.data, &split_dir);
        assert_eq!(read_scores(&scores).len(), info.n_train, "one score per official-train sample");
        splits.push(split::load(&split_dir).expect("split"));
        runs.push((scores, split_dir));
    }
    assert!(info.n_test > 0, "the test part exists and is left out");

    // The trained model's scores against an independent pass: one sample per batch, out of order.
    let scores = read_scores(&runs[0].0);
    let model = models::load(&f.trained.join("model.safetensors"), Device::Cpu).expect("model");
    let res = Resident::load(&f.data, Device::Cpu).expect("data");
    let labels = store::to_i64_vec(res.labels()).expect("labels");
    let mut right = 0;
    for x in [299, 0, 150, 7, 42, 298] {
        let pass = res.ordered(&[x as i64]);
        let (image, _) = res.batch(&pass, 0, 1);
        let logits = tch::no_grad(|| model.forward(&image, false)).view([-1]).to_kind(Kind::Double);
        let row = Vec::<f64>::try_from(&logits).expect("logits");
        let y = labels[x] as usize;
        let argmax = logits.argmax(0, false).int64_value(&[]) as usize;
        assert_eq!(scores.correct(x), argmax == y, "sample {x}: {row:?}, label {y}");
        right += usize::from(argmax == y);
        let others: Vec<f64> = row.iter().enumerate().filter(|&(j, _)| j != y).map(|(_, &v)| v).collect();
        let lse = Tensor::from_slice(&others).logsumexp(0, false).double_value(&[]);
        let want = row[y] - lse;
        assert!((f64::from(scores.confidence(x)) - want).abs() <= 1e-4 * want.abs().max(1.0), "sample {x}");
    }
    assert!(right >= 4, "the trained model is right on most of these samples ({right} of 6)");

    // Batches of 64 (five, the last partial) give the same scores, reporting each batch.
    let reports = Mutex::new(vec![]);
    let progress = |done: u64, total: u64, _: &str| reports.lock().unwrap().push((done, total));
    assert_eq!(scores_in(&model, &res, 64, &progress).expect("scores"), scores);
    assert_eq!(*reports.lock().unwrap(), (1..=5).map(|b| (b, 5)).collect::<Vec<_>>());

    let m = membership(&b, root, "family", &runs).expect("membership");
    assert_eq!(m.runs, 6);
    check_attack(&m.correctness, &splits, info.n_train);
    check_attack(&m.logit, &splits, info.n_train);
    // Six different models give spread-out confidences: most samples with two forgotten cases
    // have a P, so every summary of the logit attack is a number.
    assert!(m.logit.nan_fraction.is_some_and(|f| f < 1.0), "{m:?}");
    assert!(m.logit.mean_p.value.is_some() && m.logit.auc.value.is_some(), "{m:?}");

    // The node reports its progress: one step per run read, then the attack.
    let reports = Mutex::new(vec![]);
    let progress = |done: u64, total: u64, _: &str| reports.lock().unwrap().push((done, total));
    let inputs: Vec<(String, &Path)> = runs
        .iter()
        .enumerate()
        .flat_map(|(i, (s, p))| [(format!("{i}/scores"), s.as_path()), (format!("{i}/split"), p.as_path())])
        .collect();
    let inputs: Vec<(&str, &Path)> = inputs.iter().map(|(r, d)| (r.as_str(), *d)).collect();
    run_reporting(&b, root, &measure("membership", "reporting"), &inputs, &progress).expect("membership");
    let reports = reports.into_inner().unwrap();
    assert_eq!(reports.len(), 8);
    assert_eq!(reports.last(), Some(&(8, 8)));
}

/// A missing input, scores of another dataset, and a split reaching past the scores each fail
/// the node, naming the input.
#[test]
fn membership_names_the_input_that_does_not_fit() {
    let f = fixture();
    let b = cpu();
    let root = tempfile::tempdir().expect("temp dir");
    let root = root.path();
    let sp = node(NodeKind::Split, "lira", &[], None);
    let split_dir = run(&b, root, &sp, &[("data", &f.data)]).expect("lira split");
    let scores = predict(&b, root, "trained", &f.trained, &f.data, &split_dir);

    let pair = (scores.clone(), split_dir.clone());
    let (s, p) = (scores.as_path(), split_dir.as_path());
    let missing = run(
        &b,
        root,
        &measure("membership", "missing"),
        &[("0/scores", s), ("0/split", p), ("1/scores", s), ("2/scores", s), ("2/split", p)],
    )
    .expect_err("no `1/split`");
    assert_eq!(missing.message, "the node has no `1/split` input");
    let none = run(&b, root, &measure("membership", "none"), &[("data", &f.data)]).expect_err("no runs");
    assert!(none.message.contains("no `0/scores` input"), "{none:?}");

    // Scores of a 200-sample dataset as run 1.
    let small = node(
        NodeKind::Dataset,
        "synthetic",
        &[("classes", int(4)), ("size", int(200)), ("test", int(20)), ("shape", shape(3, 16)), ("seed", int(1))],
        None,
    );
    let small = run(&b, root, &small, &[]).expect("small dataset");
    let other = predict(&b, root, "small", &cnn_init(&b, root), &small, &split_dir);
    let err = membership(&b, root, "mismatch", &[pair.clone(), (other, split_dir.clone())]).expect_err("mismatch");
    assert_eq!(err, "the `1/scores` input has 200 samples where `0/scores` has 300");

    // A split naming sample 300 of a 300-sample train part.
    let bad = root.join("bad split");
    std::fs::create_dir_all(&bad).expect("folder");
    let sets =
        [("train", vec![0, 1]), ("val", vec![]), ("retain", vec![0]), ("forget", vec![1, 300]), ("test", vec![2])];
    let tensors: Vec<(String, Tensor)> =
        sets.iter().map(|(n, v): &(&str, Vec<i64>)| (n.to_string(), Tensor::from_slice(v))).collect();
    store::write_tensors(&bad.join("split.safetensors"), &tensors).expect("write split");
    let err = membership(&b, root, "outside", &[pair.clone(), (scores.clone(), bad)]).expect_err("outside");
    assert!(err.starts_with("the `1/split` input does not fit `1/scores`: "), "{err}");
    assert!(err.contains("index 300"), "{err}");

    // Unreadable scores name their input and file.
    let broken = root.join("broken scores");
    std::fs::create_dir_all(&broken).expect("folder");
    std::fs::write(broken.join("scores.safetensors"), b"not safetensors").expect("write");
    let err = membership(&b, root, "broken", &[(broken, split_dir), pair]).expect_err("broken");
    assert!(err.starts_with("the `0/scores` input: `") && err.contains("scores.safetensors"), "{err}");
}

/// Timings for the report (`cargo test ulira_cpu_timings -- --ignored --nocapture`): `predict`
/// of a cnn and a ResNet-18 on 4 000 CIFAR-sized images, and `membership` at the reference's
/// scale (47 500 pool samples of a 50 000-sample train part) over `MUNL_ULIRA_RUNS` runs
/// (default 640 = 64 shadows × 10 draws) with synthetic scores.
#[test]
#[ignore]
fn ulira_cpu_timings() {
    let b = cpu();
    let root = tempfile::tempdir().expect("temp dir");
    let root = root.path();
    let ds = node(
        NodeKind::Dataset,
        "synthetic",
        &[("classes", int(10)), ("size", int(4000)), ("test", int(100)), ("shape", shape(3, 32)), ("seed", int(1))],
        None,
    );
    let data = run(&b, root, &ds, &[]).expect("dataset");
    let sp = run(&b, root, &node(NodeKind::Split, "lira", &[], None), &[("data", &data)]).expect("split");
    for (arch, width) in [("cnn", 32), ("resnet18", 0)] {
        let init = node(NodeKind::Init, arch, &[("width", int(width)), ("classes", int(10))], Some(0));
        let model = run(&b, root, &init, &[]).expect("init");
        // The first pass also loads the dataset into the backend.
        for pass in ["first", "second"] {
            let start = std::time::Instant::now();
            predict(&b, root, &format!("{arch} {pass}"), &model, &data, &sp);
            eprintln!(
                "predict {arch} on 4 000 3×32×32 images, cpu, {pass} pass: {:.2} s",
                start.elapsed().as_secs_f64()
            );
        }
    }

    let runs: u64 = std::env::var("MUNL_ULIRA_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(640);
    let n = 50_000;
    let start = std::time::Instant::now();
    let mut folders = vec![];
    let mut rng = crate::stats::pcg64::Pcg64::from_seed(7);
    for r in 0..runs {
        let split = lira_split(n, 0.05, 0.1, 123, r / 10, r % 10);
        let dir = root.join(format!("run {r}"));
        std::fs::create_dir_all(&dir).expect("folder");
        let sets = [&split.train, &split.val, &split.retain, &split.forget, &split.test];
        let tensors: Vec<(String, Tensor)> = ["train", "val", "retain", "forget", "test"]
            .iter()
            .zip(sets)
            .map(|(name, s)| (name.to_string(), Tensor::from_slice(s)))
            .collect();
        store::write_tensors(&dir.join("split.safetensors"), &tensors).expect("split");
        let forgotten: BTreeSet<i64> = split.forget.iter().copied().collect();
        // Ten classes; forgotten samples lean to their label (a leaky family).
        let logits: Vec<f32> = (0..n as i64)
            .flat_map(|x| {
                let lean = if forgotten.contains(&x) { 1.0 } else { 0.0 };
                let noise: Vec<f32> =
                    (0..10).map(|_| ((rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0).collect();
                (0..10).map(move |j| noise[j] + if j as i64 == x % 10 { lean } else { 0.0 })
            })
            .collect();
        let labels: Vec<i64> = (0..n as i64).map(|x| x % 10).collect();
        let scores = PoolScores::from_logits(&logits, 10, &labels).expect("scores");
        std::fs::write(dir.join("scores.safetensors"), scores.to_safetensors()).expect("scores");
        folders.push((dir.clone(), dir));
    }
    eprintln!("{runs} synthetic runs written in {:.1} s", start.elapsed().as_secs_f64());
    let roles: Vec<(String, String)> = (0..runs).map(|i| (format!("{i}/scores"), format!("{i}/split"))).collect();
    let inputs: Vec<(&str, &Path)> = roles
        .iter()
        .zip(&folders)
        .flat_map(|((rs, rp), (s, p))| [(rs.as_str(), s.as_path()), (rp.as_str(), p.as_path())])
        .collect();
    let start = std::time::Instant::now();
    let read = Mutex::new(0.0);
    let progress = |done: u64, _: u64, _: &str| {
        if done == runs {
            *read.lock().unwrap() = start.elapsed().as_secs_f64();
        }
    };
    let out = run_reporting(&b, root, &measure("membership", "scale"), &inputs, &progress).expect("membership");
    let m: Membership = store::read_json(&out.join("membership.json")).expect("membership.json");
    eprintln!(
        "membership, {runs} runs × {n} samples, cpu: {:.2} s ({:.2} s reading the runs)\n{m:?}",
        start.elapsed().as_secs_f64(),
        read.into_inner().unwrap()
    );
}
