//! `munl.Data` (python/munl/data.py) against munl's own batches: the same passes drawn from the
//! same generator give the same batches, bit for bit, augmentation included. A Python method
//! that makes its passes as a built-in method does sees exactly its data.

use tch::{Device, Kind, Tensor};

use super::resident::Resident;
use super::store;
use crate::stats::mt19937::Mt19937;

/// Makes the same passes as `munl_batches`, in Python, and writes their batches.
const SCRIPT: &str = r#"
import sys, json, torch
from safetensors.torch import load_file, save_file
from munl.data import Data
t = load_file(sys.argv[1])
facts = json.loads(sys.argv[3])
split = {"retain": t["retain"].tolist(), "forget": t["forget"].tolist(), "val": []}
data = Data(t["images"], t["labels"], facts["mean"], facts["std"], "crop_flip", split, 4, "cpu", 0)
passes = [data.retain(7, augment=True), data.forget(7), data.retain(7, augment=True)]
out = {}
for p, batches in enumerate(passes):
    for b, (x, y) in enumerate(batches):
        out[f"{p}/{b}/x"], out[f"{p}/{b}/y"] = x.contiguous(), y.contiguous()
save_file(out, sys.argv[2])
"#;

#[test]
fn python_batches_are_munls_batches() {
    let res = Resident::random(40, [3, 8, 8], 4, Device::Cpu);
    let (retain, forget): (Vec<i64>, Vec<i64>) = (0..40).partition(|i| i % 5 != 0);
    // munl: one generator per run, passes drawn in order (an augmented retain pass, a plain
    // forget pass, another augmented retain pass).
    let mut rng = Mt19937::new(123);
    let passes = [
        res.shuffled(&retain, &mut rng, true),
        res.shuffled(&forget, &mut rng, false),
        res.shuffled(&retain, &mut rng, true),
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.safetensors");
    store::write_tensors(
        &input,
        &[
            ("images".into(), res.images().shallow_clone()),
            ("labels".into(), res.labels().shallow_clone()),
            ("retain".into(), Tensor::from_slice(&retain)),
            ("forget".into(), Tensor::from_slice(&forget)),
        ],
    )
    .unwrap();
    // `Resident::random` normalises with CIFAR-10's deviations and no shift.
    let std = crate::ops::facts("cifar10").unwrap().std;
    let facts = format!("{{\"mean\": [0, 0, 0], \"std\": {std:?}}}");
    let output = dir.path().join("out.safetensors");
    crate::torch::tests::venv_python(&[
        "-c".as_ref(),
        SCRIPT.as_ref(),
        input.as_os_str(),
        output.as_os_str(),
        facts.as_ref(),
    ]);
    let theirs: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(&output).unwrap().into_iter().collect();
    let mut batches = 0;
    for (p, pass) in passes.iter().enumerate() {
        for b in 0..pass.batches(7) {
            let (x, y) = res.batch(pass, b, 7);
            let (tx, ty) = (&theirs[&format!("{p}/{b}/x")], &theirs[&format!("{p}/{b}/y")]);
            assert_eq!(x.size(), tx.size(), "pass {p} batch {b}");
            let d = (&x - tx).abs().max().double_value(&[]);
            assert_eq!(d, 0.0, "pass {p} batch {b}: images differ by {d}");
            assert!(y.equal(&ty.to_kind(Kind::Int64)), "pass {p} batch {b}: labels differ");
            batches += 1;
        }
    }
    assert_eq!(theirs.len(), 2 * batches, "Python made the same number of batches");
}
