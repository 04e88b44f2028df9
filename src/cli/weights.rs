//! Reading safetensors files without libtorch: a saved model's architecture summary and
//! classifier head, and single integer tensors (a split's sets, a dataset's labels), for `munl show`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Buffers of a state dict that are not parameters (BatchNorm statistics).
const BUFFERS: &[&str] = &["running_mean", "running_var", "num_batches_tracked"];

/// A safetensors file's header (without `__metadata__`) and where its data starts.
fn header(path: &Path) -> std::io::Result<(serde_json::Map<String, serde_json::Value>, u64)> {
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
    let serde_json::Value::Object(mut map) = json else { return Err(bad("header is not an object")) };
    map.remove("__metadata__");
    Ok((map, 8 + len))
}

/// Tensor names and shapes, in file order of their data.
pub(crate) fn shapes(path: &Path) -> std::io::Result<Vec<(String, Vec<u64>)>> {
    let (map, _) = header(path)?;
    let mut out: Vec<(u64, String, Vec<u64>)> = map
        .iter()
        .map(|(k, v)| {
            let shape =
                v["shape"].as_array().map(|a| a.iter().filter_map(|d| d.as_u64()).collect()).unwrap_or_default();
            (v["data_offsets"][0].as_u64().unwrap_or(0), k.clone(), shape)
        })
        .collect();
    out.sort();
    Ok(out.into_iter().map(|(_, k, s)| (k, s)).collect())
}

/// The values of the 1-D integer tensor `name` (`I64` or `I32`, little-endian) of a safetensors
/// file, reading only that tensor's bytes: a dataset's labels without its images.
pub(crate) fn read_ints(path: &Path, name: &str) -> std::io::Result<Vec<i64>> {
    use std::io::{Seek, SeekFrom};
    let bad =
        |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {what}", path.display()));
    let (map, start) = header(path)?;
    let t = map.get(name).ok_or_else(|| bad(format!("no tensor `{name}`")))?;
    let width = match t["dtype"].as_str() {
        Some("I64") => 8,
        Some("I32") => 4,
        other => return Err(bad(format!("tensor `{name}` is {other:?}, not an integer tensor"))),
    };
    let (Some(from), Some(to)) = (t["data_offsets"][0].as_u64(), t["data_offsets"][1].as_u64()) else {
        return Err(bad(format!("tensor `{name}` has no data offsets")));
    };
    if to < from || (to - from) % width != 0 || to - from > 1 << 34 {
        return Err(bad(format!("tensor `{name}` has bad data offsets")));
    }
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(start + from))?;
    let mut bytes = vec![0u8; (to - from) as usize];
    file.read_exact(&mut bytes)?;
    Ok(bytes
        .chunks_exact(width as usize)
        .map(|c| match c.try_into() {
            Ok(eight) => i64::from_le_bytes(eight),
            Err(_) => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        })
        .collect())
}

/// A model's classifier head: the parameters of its last linear layer (`fc`, `head`, `classifier`
/// by name, else the last 2-D weight in file order) and the classes it outputs.
pub(crate) fn head(shapes: &[(String, Vec<u64>)]) -> Option<(u64, u64)> {
    let linear: Vec<(&str, &Vec<u64>)> = shapes
        .iter()
        .filter(|(n, s)| s.len() == 2 && n.ends_with(".weight"))
        .map(|(n, s)| (n.trim_end_matches(".weight"), s))
        .collect();
    let (prefix, shape) =
        linear.iter().find(|(p, _)| ["fc", "head", "classifier"].contains(p)).or_else(|| linear.last()).copied()?;
    let bias: u64 = shapes.iter().find(|(n, _)| *n == format!("{prefix}.bias")).map_or(0, |(_, s)| s.iter().product());
    Some((shape.iter().product::<u64>() + bias, shape[0]))
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
        assert_eq!(head(&s), Some((5130, 10)), "fc's weight and bias, 10 classes");
    }

    #[test]
    fn reads_one_integer_tensor_and_finds_the_head_by_name_or_place() {
        let header = br#"{"__metadata__":{"a":"b"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"labels":{"dtype":"I64","shape":[3],"data_offsets":[8,32]}}"#;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.safetensors");
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend([0u8; 8]);
        for l in [3i64, -1, 7] {
            bytes.extend(l.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_ints(&path, "labels").unwrap(), [3, -1, 7]);
        assert!(read_ints(&path, "x").is_err(), "a float tensor is refused");
        assert!(read_ints(&path, "y").is_err());
        let cnn = [
            ("fc1.weight".to_string(), vec![128, 256]),
            ("fc1.bias".into(), vec![128]),
            ("fc2.weight".into(), vec![4, 128]),
            ("fc2.bias".into(), vec![4]),
        ];
        assert_eq!(head(&cnn), Some((4 * 128 + 4, 4)), "the last linear layer");
    }
}
