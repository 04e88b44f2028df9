//! A node's key as a type: [`Description`] holds everything that determines a node's result and
//! nothing else, and its key is blake3 over the description's canonical JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value as J;

use crate::digest::Key;
use crate::ops::Value;

use super::node::{Coords, NodeKind, Params, Payload};

/// Bumped when the description's layout changes: every key changes with it.
/// 2: typed payloads; the seed is one coordinate among named dimensions.
pub(crate) const SCHEMA: u32 = 2;

/// Everything that determines a node's result: kind, op and version, the payload's fields in
/// canonical form, input keys in declared order with their roles, coordinates. Never names,
/// spans, paths or declaration order. Stored beside every cache entry and remembered per node
/// label, so `munl plan` can say what changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Description {
    pub(crate) schema: u32,
    pub(crate) kind: NodeKind,
    pub(crate) op: String,
    pub(crate) version: u32,
    pub(crate) params: Params,
    pub(crate) inputs: Vec<(String, Key)>,
    pub(crate) coords: Coords,
}

impl Description {
    /// The description of a node with this op, version, payload, input keys and coordinates.
    pub(crate) fn new(op: &str, version: u32, payload: &Payload, inputs: Vec<(String, Key)>, coords: Coords) -> Self {
        Description {
            schema: SCHEMA,
            kind: payload.kind(),
            op: op.to_string(),
            version,
            params: key_params(payload),
            inputs,
            coords,
        }
    }

    /// As JSON, the form the cache stores and `munl plan` compares.
    pub(crate) fn to_json(&self) -> J {
        serde_json::to_value(self).expect("a description is plain data")
    }

    /// blake3 of the canonical JSON bytes.
    pub(crate) fn key(&self) -> Key {
        key_of(&self.to_json())
    }
}

/// The payload's fields as the key sees them: one flat map, so that an explanation can say
/// "`lr` 0.01 → 0.02" for a method and "`trials` 10 → 20" for a search alike.
fn key_params(payload: &Payload) -> Params {
    let mut p = payload.params().clone();
    let ints = |xs: &[u64]| Value::List(xs.iter().map(|x| Value::Int(*x as i64)).collect());
    let strs = |xs: Vec<&str>| Value::List(xs.into_iter().map(|x| Value::Str(x.to_string())).collect());
    match payload {
        Payload::Dataset { limit, content, .. } => {
            if let Some(limit) = limit {
                p.insert("limit".into(), Value::Int(*limit));
            }
            if let Some(content) = content {
                p.insert("content".into(), Value::Str(content.clone()));
            }
        }
        Payload::Init { classes, .. } => {
            p.insert("classes".into(), Value::Int(*classes));
        }
        Payload::Train { subset, .. } => {
            p.insert("subset".into(), Value::Str(subset.clone()));
        }
        Payload::Unlearn { export: Some(export), .. } => {
            p.insert("export".into(), Value::Str(export.name().into()));
        }
        Payload::Search(s) => {
            p.insert("space".into(), Value::List(s.space.iter().map(|(name, d)| d.to_value(name)).collect()));
            p.insert("trials".into(), Value::Int(s.trials as i64));
            p.insert("sampler".into(), Value::Str(s.sampler.name().into()));
            if let Some(above) = s.prune_batch_above {
                p.insert("prune_batch_above".into(), Value::Int(above));
            }
        }
        Payload::Evaluate(e) => {
            p.insert("metrics".into(), strs(e.metrics.iter().map(|m| m.name()).collect()));
            p.insert("rows".into(), Value::Int(e.rows as i64));
            p.insert("shown".into(), Value::Int(e.shown as i64));
            p.insert("seeds".into(), ints(&e.seeds));
            if let Some(r) = e.reference {
                p.insert("reference".into(), Value::Int(r as i64));
            }
            // The table says what each row's model was made with and what the rows were
            // trained on. Its op and values are in the model's key, which its inputs' keys
            // hold; what the file wrote, what is searched and the names it shows are not.
            if !e.models.is_empty() {
                let origins = |m: &super::node::RowModel| {
                    let names: Vec<String> =
                        ["data", "model"].iter().filter_map(|k| Some(format!("{k}={}", m.values.get(*k)?))).collect();
                    let written = m.written.join(",");
                    let searched = m.searched.join(",");
                    Value::Str(format!("written: {written}; searched: {searched}; {}", names.join("; ")))
                };
                p.insert("origins".into(), Value::List(e.models.iter().map(origins).collect()));
            }
            if !e.context.is_empty() {
                let context = e.context.iter().map(|(what, text)| Value::Str(format!("{what}: {text}"))).collect();
                p.insert("context".into(), Value::List(context));
            }
        }
        Payload::Report(r) => {
            // Row labels are shown in the report, so they are part of its meaning (and only of
            // it: renaming a declaration re-renders the report and re-runs nothing else).
            p.insert("rows".into(), strs(r.rows.iter().map(|l| l.name.as_str()).collect()));
            p.insert("datasets".into(), strs(r.rows.iter().map(|l| l.dataset.as_str()).collect()));
            p.insert("archs".into(), strs(r.rows.iter().map(|l| l.arch.as_str()).collect()));
            p.insert("title".into(), Value::Str(r.title.clone()));
            p.insert("formats".into(), strs(r.formats.iter().map(|f| f.name()).collect()));
            if !r.groups.is_empty() {
                let group = |g: &Vec<(String, String)>| {
                    Value::List(g.iter().map(|(d, v)| Value::Str(format!("{d}={v}"))).collect())
                };
                p.insert("groups".into(), Value::List(r.groups.iter().map(group).collect()));
            }
        }
        _ => {}
    }
    p
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

/// blake3 of a JSON value's canonical bytes.
fn key_of(v: &J) -> Key {
    let mut out = Vec::with_capacity(256);
    canonical(v, &mut out);
    Key::of(&out)
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
        let train =
            |epochs: Value| Payload::Train { recipe: [("epochs".to_string(), epochs)].into(), subset: "train".into() };
        let seed = Coords::from([("seed".to_string(), 0)]);
        let d1 = Description::new("train", 1, &train(Value::Int(5)), vec![], seed.clone());
        let d2 = Description::new("train", 1, &train(Value::Float(5.0)), vec![], seed);
        assert_ne!(d1.key(), d2.key());
    }

    #[test]
    fn the_description_round_trips_and_names_its_parts() {
        let payload =
            Payload::Train { recipe: [("epochs".to_string(), Value::Int(5))].into(), subset: "retain".into() };
        let input = Key::of(b"init");
        let d =
            Description::new("train", 3, &payload, vec![("init".into(), input)], Coords::from([("seed".into(), 7)]));
        let json = d.to_json();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["kind"], "train");
        assert_eq!(json["params"]["subset"], "retain");
        assert_eq!(json["inputs"][0][1], input.hex());
        assert_eq!(json["coords"]["seed"], 7);
        let back: Description = serde_json::from_value(json).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.key(), d.key());
    }
}
