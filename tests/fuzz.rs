//! A stable fuzz harness for the front end: grammar-aware mutations of the example files go
//! through parsing, lowering and planning, and their diagnostics are rendered. Whatever the
//! input, the front end answers with a plan or diagnostics: no panic, no abort, no hang.
//!
//! CI runs it for `MUNL_FUZZ_SECONDS` (default 10) from `MUNL_FUZZ_SEED` (default 0, so that CI
//! is reproducible); `scripts/fuzz SECONDS [SEED]` runs longer from a fresh seed. A failing
//! input is written to `target/fuzz-failure.munl` and its seed and number are printed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use munl::{compile, Source};

/// The example files the mutations start from.
const CORPUS: &[&str] = &[
    include_str!("../experiments/quickstart.munl"),
    include_str!("../experiments/all_methods.munl"),
    include_str!("../experiments/search_demo.munl"),
    include_str!("../experiments/deepunlearn/cifar10_resnet18.munl"),
    include_str!("../experiments/deepunlearn/utkface_vit11m.munl"),
    include_str!("fixtures/toy.munl"),
    include_str!("fixtures/errors.munl"),
    include_str!("fixtures/language_example.munl"),
    include_str!("fixtures/sweep.munl"),
    include_str!("fixtures/ulira.munl"),
    include_str!("../experiments/ulira_demo.munl"),
];

/// Tokens a mutation may insert: the language's keywords and punctuation, and values at the
/// edges of what the types hold.
#[rustfmt::skip]
const VOCABULARY: &[&str] = &[
    "dataset", "model", "train", "unlearn", "evaluate", "report", "seeds", "device", "source", "split", "data",
    "models", "reference", "metrics", "tune", "search", "epochs", "batch", "lr", "width", "shape", "{", "}", "[", "]",
    "(", ")", ",", ";", "=", ":", ".", "..", "0", "1", "-1", "2.5", "1e308", "-1e308", "1e-320",
    "9223372036854775807", "-9223372036854775808", "99999999999999999999", "0..100000000", "0.0", "true", "false",
    "\"\"", "\"../up\"", "\"/abs/path\"", "\"results/x.md\"", "\"\\u{0}\"", "#", "\n", "# comment\n", "é", "\u{feff}",
    "\"", "'", "\\", "retrained", "original", "forget", "retain", "train", "test", "val", "dim", "each", "over",
    "shadow", "draw", "frac", "seed", "lira", "ulira", "each(1, 2)", "each()", "0..64", "[]",
];

/// A small, seeded generator (xorshift64*); the harness must not depend on a crate's stream.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Splits text into tokens: words, numbers, strings, comments, whitespace runs, punctuation.
/// Concatenating the tokens gives the text back.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let len = if c.is_alphanumeric() || c == '_' {
            rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).unwrap_or(rest.len())
        } else if c.is_whitespace() {
            rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len())
        } else if c == '#' {
            rest.find('\n').unwrap_or(rest.len())
        } else if c == '"' {
            rest[1..].find('"').map_or(rest.len(), |i| i + 2)
        } else if rest.starts_with("..") {
            2
        } else {
            c.len_utf8()
        };
        out.push(&rest[..len]);
        rest = &rest[len..];
    }
    out
}

/// One grammar-aware mutation of `base` (or a splice with `other`), repeated a few times.
fn mutate(rng: &mut Rng, base: &str, other: &str) -> String {
    let mut toks: Vec<String> = tokens(base).into_iter().map(String::from).collect();
    let donor: Vec<&str> = tokens(other);
    for _ in 0..1 + rng.below(4) {
        let n = toks.len().max(1);
        let at = rng.below(n);
        match rng.below(9) {
            0 if !toks.is_empty() => {
                toks.remove(at);
            }
            1 if !toks.is_empty() => {
                let t = toks[at].clone();
                toks.insert(at, t);
            }
            2 if !toks.is_empty() => {
                let b = rng.below(n);
                toks.swap(at.min(n - 1), b.min(n - 1));
            }
            3 | 4 => {
                let t = VOCABULARY[rng.below(VOCABULARY.len())].to_string();
                if rng.below(2) == 0 && at < toks.len() {
                    toks[at] = t;
                } else {
                    toks.insert(at.min(toks.len()), t);
                }
            }
            5 if !donor.is_empty() => {
                // A run of the other file's tokens replaces a run of this one's.
                let from = rng.below(donor.len());
                let len = 1 + rng.below(40);
                let piece: Vec<String> =
                    donor[from..(from + len).min(donor.len())].iter().map(|t| t.to_string()).collect();
                let end = (at + rng.below(40)).min(toks.len());
                toks.splice(at.min(toks.len())..end, piece);
            }
            6 => {
                // Nesting, sometimes past the parser's limit.
                let depth = 1 + rng.below(100);
                let (open, close) = if rng.below(2) == 0 { ("[", "]") } else { ("(", ")") };
                let nest = format!("{}1{}", open.repeat(depth), close.repeat(depth));
                toks.insert(at.min(toks.len()), nest);
            }
            7 if !toks.is_empty() => {
                // A run of tokens repeated: long lists, many declarations, redefinitions.
                let len = 1 + rng.below(30);
                let end = (at + len).min(toks.len());
                let piece = toks[at..end].to_vec();
                for _ in 0..1 + rng.below(20) {
                    toks.splice(end..end, piece.clone());
                }
            }
            _ if !toks.is_empty() => {
                // A number nudged to an edge.
                if let Some(i) =
                    (0..n).map(|k| (at + k) % n).find(|&i| toks[i].starts_with(|c: char| c.is_ascii_digit()))
                {
                    toks[i] = ["0", "-0", "1e400", "65536", "4294967297", "1e-9", "0.0000001"][rng.below(7)].into();
                }
            }
            _ => toks.push(VOCABULARY[rng.below(VOCABULARY.len())].to_string()),
        }
    }
    toks.concat()
}

/// Whether the front end made a plan of one input (else it rendered diagnostics).
fn front_end(text: &str) -> bool {
    let source = Source::new(Path::new("fuzz/input.munl"), text);
    match compile(&source, Path::new("/nonexistent-data")) {
        Ok(plan) => plan.ids().next().is_some(),
        Err(diagnostics) => munl::testing::render(&diagnostics).is_empty(),
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn mutated_files_never_crash_the_front_end() {
    let seconds = env_number("MUNL_FUZZ_SECONDS", 10);
    let seed = env_number("MUNL_FUZZ_SEED", 0);
    // An input that takes longer than this is a hang for our purposes (the examples take
    // milliseconds, in a debug build too).
    let slow = Duration::from_secs(env_number("MUNL_FUZZ_SLOW_SECONDS", 10));
    let mut rng = Rng::new(seed);
    let started = Instant::now();
    let (mut inputs, mut planned, mut slowest) = (0u64, 0u64, Duration::ZERO);
    let mut failure = None;
    while started.elapsed() < Duration::from_secs(seconds) {
        let base = CORPUS[rng.below(CORPUS.len())];
        let other = CORPUS[rng.below(CORPUS.len())];
        let input = mutate(&mut rng, base, other);
        let t0 = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| front_end(&input)));
        let took = t0.elapsed();
        slowest = slowest.max(took);
        inputs += 1;
        match outcome {
            Ok(_) if took > slow => failure = Some((input, format!("took {took:?}"))),
            Ok(made_a_plan) => planned += u64::from(made_a_plan),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failure = Some((input, format!("panicked: {message}")));
            }
        }
        if failure.is_some() {
            break;
        }
    }
    eprintln!(
        "fuzz: {inputs} inputs ({planned} planned) in {:.1?} from MUNL_FUZZ_SEED={seed}; slowest {slowest:.1?}",
        started.elapsed()
    );
    if let Some((input, what)) = failure {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failure.munl");
        let _ = std::fs::write(&path, &input);
        panic!("input {inputs} of MUNL_FUZZ_SEED={seed} {what}; written to {}", path.display());
    }
    assert!(planned > 0 || inputs < 100, "no input got through to a plan: the mutations are too harsh");
}

#[test]
fn tokens_give_the_text_back() {
    for text in CORPUS {
        assert_eq!(tokens(text).concat(), *text);
    }
}
