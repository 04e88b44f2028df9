//! Reading a saved model's safetensors header without libtorch: the architecture summary of
//! `munl show`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Buffers of a state dict that are not parameters (BatchNorm statistics).
const BUFFERS: &[&str] = &["running_mean", "running_var", "num_batches_tracked"];

/// Tensor names and shapes, in file order of their data.
pub(crate) fn shapes(path: &Path) -> std::io::Result<Vec<(String, Vec<u64>)>> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
    let mut file = std::fs::File::open(path)?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len)?;
    let len = u64::from_le_bytes(len);
    if len > 100 << 20 {
        return Err(bad("implausible safetensors header length"));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header)?;
    let json: serde_json::Value = serde_json::from_slice(&header).map_err(|_| bad("header is not JSON"))?;
    let map = json.as_object().ok_or_else(|| bad("header is not an object"))?;
    let mut out: Vec<(u64, String, Vec<u64>)> = map
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .map(|(k, v)| {
            let shape =
                v["shape"].as_array().map(|a| a.iter().filter_map(|d| d.as_u64()).collect()).unwrap_or_default();
            (v["data_offsets"][0].as_u64().unwrap_or(0), k.clone(), shape)
        })
        .collect();
    out.sort();
    Ok(out.into_iter().map(|(_, k, s)| (k, s)).collect())
}

/// Parameters (not buffers) per top-level module, and the total.
pub(crate) fn summary(shapes: &[(String, Vec<u64>)]) -> String {
    let mut modules: Vec<(String, u64, usize)> = vec![];
    let mut total = 0;
    let mut buffers = BTreeMap::new();
    for (name, shape) in shapes {
        let count: u64 = shape.iter().product();
        if let Some(b) = BUFFERS.iter().find(|b| name.ends_with(*b)) {
            *buffers.entry(*b).or_insert(0u64) += 1;
            continue;
        }
        total += count;
        // `layers.1.blocks.0…` groups as `layers.1`; `conv1.weight` as `conv1`.
        let parts: Vec<&str> = name.split('.').collect();
        let top = match parts.as_slice() {
            [a, b, _, ..] if b.chars().all(|c| c.is_ascii_digit()) => format!("{a}.{b}"),
            [a, ..] => a.to_string(),
            [] => continue,
        };
        match modules.last_mut() {
            Some((m, c, n)) if *m == top => {
                *c += count;
                *n += 1;
            }
            _ => modules.push((top, count, 1)),
        }
    }
    let mut out = String::new();
    for (m, c, n) in &modules {
        out.push_str(&format!("    {m:<20} {c:>12} parameters in {n} tensors\n"));
    }
    let buffers: Vec<String> = buffers.iter().map(|(b, n)| format!("{n} {b}")).collect();
    out.push_str(&format!("    {:<20} {total:>12} parameters", "total"));
    if !buffers.is_empty() {
        out.push_str(&format!(" (buffers: {})", buffers.join(", ")));
    }
    out.push('\n');
    out
}

/// The number of parameters (buffers excluded).
pub(crate) fn parameter_count(shapes: &[(String, Vec<u64>)]) -> u64 {
    shapes.iter().filter(|(n, _)| !BUFFERS.iter().any(|b| n.ends_with(b))).map(|(_, s)| s.iter().product::<u64>()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_header_and_counts_parameters() {
        let header = br#"{"fc.weight":{"dtype":"F32","shape":[10,512],"data_offsets":[8,20488]},"bn1.running_mean":{"dtype":"F32","shape":[64],"data_offsets":[20488,20744]},"conv1.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"fc.bias":{"dtype":"F32","shape":[10],"data_offsets":[20744,20784]}}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.safetensors");
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend(vec![0u8; 20784]);
        std::fs::write(&path, bytes).unwrap();
        let s = shapes(&path).unwrap();
        assert_eq!(s[0].0, "conv1.weight", "data order");
        assert_eq!(parameter_count(&s), 2 + 5120 + 10);
        let text = summary(&s);
        assert!(text.contains("fc") && text.contains("5130 parameters in 2 tensors"), "{text}");
        assert!(text.contains("1 running_mean"), "{text}");
    }
}
