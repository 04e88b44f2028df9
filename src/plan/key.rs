//! The canonical description of a node and its key.

use std::collections::BTreeMap;

use serde_json::{json, Value as J};

use crate::digest::Key;
use crate::ops::Value;

use super::NodeKind;

/// Bumped when the description's layout changes: every key changes with it.
pub(crate) const SCHEMA: u32 = 1;

/// Everything that determines a node's result, and nothing else: kind, op and version, sorted
/// parameters in canonical form, input keys in declared order, seed. Never names, spans, paths
/// or declaration order.
pub(crate) fn describe(
    kind: NodeKind,
    op: &str,
    version: u32,
    params: &BTreeMap<String, Value>,
    inputs: &[(String, Key)],
    seed: Option<u64>,
) -> J {
    json!({
        "schema": SCHEMA,
        "kind": kind.as_str(),
        "op": op,
        "version": version,
        "params": params.iter().map(|(k, v)| (k.clone(), v.canonical())).collect::<serde_json::Map<_, _>>(),
        "inputs": inputs.iter().map(|(role, key)| json!([role, key.hex()])).collect::<Vec<_>>(),
        "seed": seed,
    })
}

/// The key of a description: blake3 of its canonical JSON bytes.
pub(crate) fn key_of(description: &J) -> Key {
    let mut out = Vec::with_capacity(256);
    canonical(description, &mut out);
    Key::of(&out)
}

/// Compact JSON with object keys sorted bytewise, whatever map type serde_json was built with;
/// numbers in serde_json's form (integers plain, floats shortest round-trip).
fn canonical(v: &J, out: &mut Vec<u8>) {
    match v {
        J::Object(map) => {
            let mut entries: Vec<(&String, &J)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(J::from(k.as_str()).to_string().as_bytes());
                out.push(b':');
                canonical(v, out);
            }
            out.push(b'}');
        }
        J::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(v, out);
            }
            out.push(b']');
        }
        scalar => out.extend(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ignores_map_order_but_not_values() {
        let a = serde_json::json!({"b": 1, "a": {"y": 0.1, "x": [1, 2]}});
        let b = serde_json::json!({"a": {"x": [1, 2], "y": 0.1}, "b": 1});
        let c = serde_json::json!({"a": {"x": [1, 2], "y": 0.10000001}, "b": 1});
        assert_eq!(key_of(&a), key_of(&b));
        assert_ne!(key_of(&a), key_of(&c));
        let mut bytes = vec![];
        canonical(&a, &mut bytes);
        assert_eq!(String::from_utf8(bytes).unwrap(), r#"{"a":{"x":[1,2],"y":0.1},"b":1}"#);
    }

    #[test]
    fn int_and_float_params_differ() {
        let mut p = BTreeMap::new();
        p.insert("epochs".to_string(), Value::Int(5));
        let d1 = describe(NodeKind::Train, "train", 1, &p, &[], Some(0));
        p.insert("epochs".to_string(), Value::Float(5.0));
        let d2 = describe(NodeKind::Train, "train", 1, &p, &[], Some(0));
        assert_ne!(key_of(&d1), key_of(&d2));
    }
}
