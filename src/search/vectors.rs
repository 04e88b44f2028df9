//! Replay of `spec/vectors/search.json` (search.md §9): real Optuna trial tables, fed back
//! outcome by outcome; every proposed value must equal Optuna's bit for bit.

use serde_json::Value;

use super::elite::reference_points;
use super::{propose, propose_next, ready, replay, Capacity, Dist, Origin, Outcome, Param, SamplerKind, Space};

/// The vectors with every number literal turned into a string, parsed later by `str::parse`
/// (correctly rounded): serde_json's default float parser can be one ulp off on 17-digit
/// literals, which a bit-exact comparison would report as a mismatch.
fn vectors() -> Value {
    let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/search.json"));
    let mut quoted = String::with_capacity(text.len() * 2);
    let (mut in_string, mut escaped, mut in_number) = (false, false, false);
    for ch in text.chars() {
        if in_number && !(ch.is_ascii_digit() || matches!(ch, '.' | 'e' | 'E' | '+' | '-')) {
            quoted.push('"');
            in_number = false;
        }
        if in_string {
            in_string = ch != '"' || escaped;
            escaped = ch == '\\' && !escaped;
        } else if ch == '"' {
            in_string = true;
        } else if !in_number && (ch.is_ascii_digit() || ch == '-') {
            quoted.push('"');
            in_number = true;
        }
        quoted.push(ch);
    }
    serde_json::from_str(&quoted).expect("search.json parses")
}

fn num(v: &Value) -> f64 {
    match v.as_str().expect("number as text") {
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        s => s.parse().expect("number"),
    }
}

fn int(v: &Value) -> i64 {
    v.as_str().expect("integer as text").parse().expect("integer")
}

/// The search space of the vectors, in suggest order.
fn space(all: &Value) -> Space {
    let params = all["search_space_in_suggest_order"]
        .as_array()
        .expect("space")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().expect("name");
            let dist = match p["kind"].as_str().expect("kind") {
                "float" => {
                    Dist::Float { low: num(&p["low"]), high: num(&p["high"]), log: p["log"].as_bool().expect("log") }
                }
                "int" => Dist::Int {
                    low: int(&p["low"]),
                    high: int(&p["high"]),
                    log: p["log"].as_bool().expect("log"),
                    step: int(&p["step"]),
                },
                "categorical" => Dist::Categorical(p["choices"].as_array().expect("choices").iter().map(num).collect()),
                other => panic!("unknown kind {other}"),
            };
            Param::new(name, dist)
        })
        .collect();
    Space::new(params).expect("valid space")
}

struct Row {
    outcome: Outcome,
    generation: u32,
    values: Vec<f64>,
    src: String,
}

fn rows(space: &Space, table: &Value) -> Vec<Row> {
    table
        .as_array()
        .expect("trials")
        .iter()
        .enumerate()
        .map(|(i, t)| {
            assert_eq!(int(&t["n"]), i as i64, "trial numbers are consecutive");
            let outcome = match t["state"].as_str().expect("state") {
                "COMPLETE" => Outcome::Complete(t["values"].as_array().expect("values").iter().map(num).collect()),
                "PRUNED" => Outcome::Pruned,
                "FAIL" => Outcome::Failed,
                other => panic!("unknown state {other}"),
            };
            // The tables name parameters as the study knows them.
            let values = space.params().iter().map(|p| num(&t["params"][p.study_name.as_str()])).collect();
            let generation = u32::try_from(int(&t["gen"])).expect("small");
            Row { outcome, generation, values, src: t["src"].as_str().expect("src").to_string() }
        })
        .collect()
}

fn letters(origins: &[Origin]) -> String {
    origins
        .iter()
        .map(|o| match o {
            Origin::Single => 'S',
            Origin::Prior => 'R',
            Origin::Child => 'C',
            Origin::Model => 'T',
        })
        .collect()
}

/// Replays `table` with `seed` and checks every trial; returns the replay's elites.
fn check_table(seed: u64, key: &str) -> Vec<Vec<usize>> {
    let all = vectors();
    let space = space(&all);
    let rows = rows(&space, &all[key]["trials"]);
    check_rows(SamplerKind::Nsga3, seed, &space, &rows, key)
}

fn check_rows(kind: SamplerKind, seed: u64, space: &Space, rows: &[Row], key: &str) -> Vec<Vec<usize>> {
    let history: Vec<Outcome> = rows.iter().map(|r| r.outcome.clone()).collect();
    let got = replay(kind, seed, space, &history);
    assert_eq!(got.proposals.len(), rows.len() + 1);
    for (row, p) in rows.iter().zip(&got.proposals) {
        let n = p.number;
        for (k, (want, have)) in row.values.iter().zip(&p.ordered).enumerate() {
            assert_eq!(want.to_bits(), have.to_bits(), "{key} trial {n} {}: {want} vs {have}", space.params()[k].name);
        }
        assert_eq!(p.generation, Some(row.generation), "{key} trial {n} generation");
        assert_eq!(letters(&p.origins), row.src, "{key} trial {n} origins");
    }
    got.elites
}

#[test]
fn seed0_optuna_361_full_table() {
    let elites = check_table(0, "seed0_optuna_361");
    let all = vectors();
    let want = elites_of(&all, "seed0_optuna_361");
    assert_eq!(want.len(), 3);
    for (g, list) in want {
        assert_eq!(elites[g], list, "elite of generation {g}");
    }
}

fn elites_of(all: &Value, key: &str) -> Vec<(usize, Vec<usize>)> {
    let want = all[key]["elite_population_numbers"].as_object().expect("elites");
    want.iter()
        .map(|(g, list)| {
            let list = list.as_array().expect("list").iter().map(|x| int(x) as usize).collect();
            (g.parse().expect("generation"), list)
        })
        .collect()
}

#[test]
fn seed0_optuna_500_full_table() {
    // Trials 0–49 are omitted from the 5.0 table: they equal the 3.6.1 ones.
    let all = vectors();
    let space = space(&all);
    let early = all["seed0_optuna_361"]["trials"].as_array().expect("trials").iter().take(50);
    let late = all["seed0_optuna_500"]["trials"].as_array().expect("trials").iter();
    let rows = rows(&space, &Value::Array(early.chain(late).cloned().collect()));
    let elites = check_rows(SamplerKind::Nsga3Optuna5, 0, &space, &rows, "seed0_optuna_500");
    for (g, list) in elites_of(&all, "seed0_optuna_500") {
        assert_eq!(elites[g], list, "5.0 elite of generation {g}");
    }
}

/// The catalogue's `finetune` search is the vectors' space: the reference's names in the
/// reference's suggestion order. Built as the engine builds it (munl's field names, known to
/// the sampler by the reference's), it replays the table to the bit.
#[test]
fn the_catalogue_generic_space_is_the_vectors_space() {
    use crate::ops::{find, Category};
    let all = vectors();
    let vectors_space = space(&all);
    let op = find(Category::Method, "finetune").expect("finetune");
    let searched: Vec<(&str, &str)> =
        op.suggestion_order().into_iter().filter_map(|f| Some((f.name, f.reference?.name))).collect();
    let names: Vec<&str> = vectors_space.params().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(searched.iter().map(|&(_, r)| r).collect::<Vec<_>>(), names);
    let params = searched
        .iter()
        .zip(vectors_space.params())
        .map(|(&(field, reference), p)| Param::new(field, p.dist.clone()).known_as(reference))
        .collect();
    let space = Space::new(params).expect("valid");
    assert_eq!(space.relative(), vectors_space.relative());
    let rows = rows(&space, &all["seed0_optuna_361"]["trials"]);
    check_rows(SamplerKind::Nsga3, 0, &space, &rows, "seed0_optuna_361 (catalogue names)");
    let history: Vec<Outcome> = rows.iter().map(|r| r.outcome.clone()).collect();
    let next = propose(SamplerKind::Nsga3, 0, &space, &history[..60]);
    assert_eq!(next.values["lr"].to_bits(), rows[60].values[0].to_bits(), "proposals carry munl's names");
}

#[test]
fn seed1_first_56_trials() {
    check_table(1, "seed1_first_56_trials_optuna_361");
}

#[test]
fn seed2_first_56_trials() {
    check_table(2, "seed2_first_56_trials_optuna_361");
}

#[test]
fn reference_points_m4_h3() {
    let all = vectors();
    let want: Vec<Vec<f64>> = all["reference_points_M4_H3"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p.as_array().expect("point").iter().map(num).collect())
        .collect();
    assert_eq!(reference_points(4, 3), want);
}

#[test]
fn random_sampler_is_the_first_generation_prior() {
    // Generation 0 of NSGA-III draws everything from R_rand, i.e. is `RandomSampler(seed)`.
    let all = vectors();
    let space = space(&all);
    let rows = rows(&space, &all["seed0_optuna_361"]["trials"]);
    let history: Vec<Outcome> = rows.iter().map(|r| r.outcome.clone()).collect();
    let got = replay(SamplerKind::Random, 0, &space, &history[..51]);
    for (row, p) in rows.iter().take(51).zip(&got.proposals) {
        assert_eq!(p.ordered, row.values, "trial {}", p.number);
        assert_eq!(p.generation, None);
    }
    assert_eq!(ready(SamplerKind::Random, &space, &[None, None]), Capacity::Unlimited);
}

#[test]
fn propose_equals_the_replay_at_every_generation_boundary() {
    let all = vectors();
    let space = space(&all);
    let rows = rows(&space, &all["seed0_optuna_361"]["trials"]);
    let history: Vec<Outcome> = rows.iter().map(|r| r.outcome.clone()).collect();
    for n in [0, 50, 51, 52, 70, 71, 102, 103, 150, 201, 202] {
        let p = propose(SamplerKind::Nsga3, 0, &space, &history[..n]);
        assert_eq!(p.number, n);
        if let Some(row) = rows.get(n) {
            assert_eq!(p.ordered, row.values, "trial {n}");
        }
    }
}

/// A concurrent engine: proposes whatever is ready, finishes the oldest running trial when
/// nothing is, and must see exactly the sequential trials.
#[test]
fn concurrent_proposals_equal_the_sequential_run() {
    let all = vectors();
    let space = space(&all);
    let rows = rows(&space, &all["seed0_optuna_361"]["trials"]);
    let total = 112;
    let mut trials: Vec<Option<Outcome>> = Vec::new();
    let mut max_running = 0;
    while trials.len() < total {
        match propose_next(SamplerKind::Nsga3, 0, &space, &trials) {
            Some(p) => {
                assert_eq!(p.ordered, rows[p.number].values, "trial {}", p.number);
                trials.push(None);
                max_running = max_running.max(trials.iter().filter(|t| t.is_none()).count());
            }
            None => {
                // Finish the youngest running trial first: outcomes arrive out of order.
                let i = trials.iter().rposition(Option::is_none).expect("something runs");
                trials[i] = Some(rows[i].outcome.clone());
            }
        }
    }
    assert!(max_running >= 49, "generation 0 runs in parallel ({max_running})");
    let capacity = ready(SamplerKind::Nsga3, &space, &trials);
    assert!(matches!(capacity, Capacity::Trials(_)));
}

#[test]
fn invalid_objective_vectors_count_as_failed() {
    let all = vectors();
    let space = space(&all);
    let rows = rows(&space, &all["seed0_optuna_361"]["trials"]);
    let mut history: Vec<Outcome> = rows.iter().take(60).map(|r| r.outcome.clone()).collect();
    let base = propose(SamplerKind::Nsga3, 0, &space, &history);
    // A NaN objective is a FAIL: the trial drops out of the population, as if pruned.
    history[10] = Outcome::Complete(vec![f64::NAN, 0.0, 0.0, 0.0]);
    let nan = propose(SamplerKind::Nsga3, 0, &space, &history);
    history[10] = Outcome::Failed;
    let failed = propose(SamplerKind::Nsga3, 0, &space, &history);
    assert_eq!(nan, failed);
    assert_ne!(base.generation, None);
}
