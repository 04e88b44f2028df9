//! How long a node will take, from the times the cache recorded for results like it.
//!
//! A result is like a node when it is of the same kind and op, on the same architecture (the
//! fields of the `init` node it descends from) and the same data (the fields of its `dataset`
//! node). Among those, results with the node's own fields (another seed of the same run) are
//! the estimate; failing that, results whose fields differ, their times scaled by the ratio of
//! `epochs` (trainings, methods) or `trials` (searches) where both have one. A node with no
//! such result has no estimate: the plan says how many. Times are those recorded on the
//! machine and device that computed the results.

use std::collections::HashMap;

use crate::cache::Cache;
use crate::digest::Key;

use super::key::Description;
use super::node::NodeKind;
use super::{NodeId, Plan};

/// Fields whose value a node's time is proportional to.
const SCALING: &[&str] = &["epochs", "trials"];

/// One node's estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Estimate {
    pub(crate) seconds: f64,
    /// How many recorded results it is the median of.
    pub(crate) from: usize,
    /// Whether they had the node's own fields (else they were scaled from other fields).
    pub(crate) same_fields: bool,
}

/// What a node's time depends on besides its own fields: its kind and op, its architecture
/// and its data (canonical JSON of the `init` and `dataset` fields it descends from).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Profile {
    kind: NodeKind,
    op: String,
    arch: String,
    data: String,
}

/// A recorded result: its fields and its time.
struct Record {
    params: crate::plan::Params,
    seconds: f64,
}

/// The recorded times of a cache, by profile, ready to estimate any plan's nodes.
pub(crate) struct Estimator {
    records: HashMap<Profile, Vec<Record>>,
    /// Every description known (the cache's and the plan's), by key, to find ancestors.
    descriptions: HashMap<Key, Description>,
}

impl Estimator {
    /// Reads every entry's manifest; an unreadable cache estimates nothing.
    pub(crate) fn new(cache: &Cache, plan: &Plan) -> Estimator {
        let mut descriptions: HashMap<Key, Description> = HashMap::new();
        let mut times: Vec<(Key, f64)> = vec![];
        for entry in cache.list().unwrap_or_default() {
            let manifest = entry.manifest;
            let Ok(description) = serde_json::from_value::<Description>(manifest.description.clone()) else {
                continue;
            };
            times.push((manifest.key, manifest.wall_time_s));
            descriptions.insert(manifest.key, description);
        }
        for (id, description) in plan.descriptions.iter().enumerate() {
            descriptions.insert(plan.node(NodeId(id)).key, description.clone());
        }
        let mut this = Estimator { records: HashMap::new(), descriptions };
        let mut memo = HashMap::new();
        for (key, seconds) in times {
            if let Some(profile) = this.profile(&key, &mut memo) {
                let params = this.descriptions[&key].params.clone();
                this.records.entry(profile).or_default().push(Record { params, seconds });
            }
        }
        this
    }

    /// The estimate of every node of `plan` (by node index), `None` where nothing alike was
    /// recorded.
    pub(crate) fn estimate(&self, plan: &Plan) -> Vec<Option<Estimate>> {
        let mut memo = HashMap::new();
        (0..plan.nodes.len())
            .map(|i| {
                let key = plan.node(NodeId(i)).key;
                let profile = self.profile(&key, &mut memo)?;
                estimate(self.records.get(&profile)?, &plan.descriptions[i].params)
            })
            .collect()
    }

    /// The profile of the result with this key; `None` when its description is unknown.
    fn profile(&self, key: &Key, memo: &mut HashMap<Key, (String, String)>) -> Option<Profile> {
        let d = self.descriptions.get(key)?;
        let (arch, data) = self.ancestry(key, memo);
        Some(Profile { kind: d.kind, op: d.op.clone(), arch, data })
    }

    /// The architecture and data a result descends from (empty where it descends from none).
    fn ancestry(&self, key: &Key, memo: &mut HashMap<Key, (String, String)>) -> (String, String) {
        if let Some(known) = memo.get(key) {
            return known.clone();
        }
        let Some(d) = self.descriptions.get(key) else { return Default::default() };
        let own = || serde_json::to_string(&d.params).unwrap_or_default();
        let found = match d.kind {
            NodeKind::Init => (own(), String::new()),
            NodeKind::Dataset => (String::new(), own()),
            _ => {
                let (mut arch, mut data) = (String::new(), String::new());
                for (_, input) in &d.inputs {
                    let (a, x) = self.ancestry(input, memo);
                    if arch.is_empty() {
                        arch = a;
                    }
                    if data.is_empty() {
                        data = x;
                    }
                }
                (arch, data)
            }
        };
        memo.insert(*key, found.clone());
        found
    }
}

/// The median of the records with `params`, else of the others scaled by their `epochs` or
/// `trials` ratio to `params`'.
fn estimate(records: &[Record], params: &crate::plan::Params) -> Option<Estimate> {
    let same: Vec<f64> = records.iter().filter(|r| r.params == *params).map(|r| r.seconds).collect();
    if !same.is_empty() {
        return Some(Estimate { seconds: median(same.clone()), from: same.len(), same_fields: true });
    }
    let scaled: Vec<f64> = records.iter().map(|r| r.seconds * scale(&r.params, params)).collect();
    (!scaled.is_empty()).then(|| Estimate { seconds: median(scaled.clone()), from: scaled.len(), same_fields: false })
}

/// The ratio of `to`'s scaling fields to `from`'s, where both have one (1 otherwise).
fn scale(from: &crate::plan::Params, to: &crate::plan::Params) -> f64 {
    let number = |p: &crate::plan::Params, f: &str| match p.get(f) {
        Some(crate::ops::Value::Int(i)) if *i > 0 => Some(*i as f64),
        Some(crate::ops::Value::Float(x)) if *x > 0.0 => Some(*x),
        _ => None,
    };
    SCALING.iter().filter_map(|f| Some(number(to, f)? / number(from, f)?)).product()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Seconds as people read them: `42 s`, `3 min 5 s`, `2 h 10 min`.
pub(crate) fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Value;

    fn params(pairs: &[(&str, i64)]) -> crate::plan::Params {
        pairs.iter().map(|(k, v)| (k.to_string(), Value::Int(*v))).collect()
    }

    #[test]
    fn the_same_fields_give_their_median_and_others_scale_by_epochs() {
        let records = vec![
            Record { params: params(&[("epochs", 2), ("batch", 64)]), seconds: 10.0 },
            Record { params: params(&[("epochs", 2), ("batch", 64)]), seconds: 14.0 },
            Record { params: params(&[("epochs", 4), ("batch", 64)]), seconds: 30.0 },
        ];
        let same = estimate(&records, &params(&[("epochs", 2), ("batch", 64)])).unwrap();
        assert_eq!(same, Estimate { seconds: 12.0, from: 2, same_fields: true });
        // 10·3/2, 14·3/2, 30·3/4: the median is 21.
        let scaled = estimate(&records, &params(&[("epochs", 3), ("batch", 64)])).unwrap();
        assert_eq!(scaled, Estimate { seconds: 21.0, from: 3, same_fields: false });
        assert_eq!(estimate(&[], &params(&[])), None);
    }

    /// The toy experiment, with `seeds` and `ft`'s epochs as given.
    fn toy(seeds: &str, ft_epochs: i64) -> Plan {
        let text =
            include_str!("../../tests/fixtures/toy.munl").replace("seeds = 0..2", &format!("seeds = {seeds}")).replace(
                "unlearn ft = finetune(original) { epochs = 1;",
                &format!("unlearn ft = finetune(original) {{ epochs = {ft_epochs};"),
            );
        let source = crate::source::Source::new("toy.munl", text);
        crate::compile(&source, std::path::Path::new("/nonexistent-data")).expect("the toy compiles")
    }

    /// Records a result of every node of `plan` whose label passes `keep`, taking `seconds`.
    fn record(cache: &Cache, plan: &Plan, keep: impl Fn(&str) -> bool, seconds: impl Fn(&str) -> f64) {
        for id in plan.ids().filter(|id| keep(&plan.node(*id).label)) {
            let node = plan.node(id);
            let pending = cache.begin(&node.key).unwrap();
            let info = crate::cache::ManifestInfo {
                kind: node.kind().as_str().into(),
                op: node.op.clone(),
                label: node.label.clone(),
                description: plan.descriptions[id.0].to_json(),
                wall_time_s: seconds(&node.label),
            };
            pending.commit(info).unwrap();
        }
    }

    #[test]
    fn a_new_seed_is_estimated_from_the_recorded_seeds_and_more_epochs_scale() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        let two = toy("0..2", 1);
        record(
            &cache,
            &two,
            |l| !l.starts_with("evaluate") && !l.starts_with("report"),
            |l| match l {
                l if l.starts_with("train original") => 20.0,
                l if l.starts_with("unlearn ft") => 4.0,
                _ => 1.0,
            },
        );
        let three = toy("0..3", 3);
        let estimates = Estimator::new(&cache, &three).estimate(&three);
        let of = |label: &str| {
            let ids = three.target(label).unwrap_or_else(|| panic!("no {label}"));
            estimates[ids[0].0]
        };
        assert_eq!(of("train original [seed=2]"), Some(Estimate { seconds: 20.0, from: 2, same_fields: true }));
        // ft now trains 3 epochs: its recorded 1-epoch runs, scaled.
        assert_eq!(of("unlearn ft [seed=2]"), Some(Estimate { seconds: 12.0, from: 2, same_fields: false }));
        // Another architecture has no record alike.
        let wide = {
            let text = include_str!("../../tests/fixtures/toy.munl").replace("cnn(width: 4)", "cnn(width: 8)");
            crate::compile(&crate::source::Source::new("toy.munl", text), std::path::Path::new("/nonexistent-data"))
                .unwrap()
        };
        let estimates = Estimator::new(&cache, &wide).estimate(&wide);
        let original = wide.target("train original [seed=0]").unwrap()[0];
        assert_eq!(estimates[original.0], None);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(0.4), "0 s");
        assert_eq!(duration(59.6), "1 min 0 s");
        assert_eq!(duration(185.0), "3 min 5 s");
        assert_eq!(duration(7800.0), "2 h 10 min");
    }
}
