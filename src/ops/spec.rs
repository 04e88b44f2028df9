//! The shape of a catalogue entry: an operation's category, fields, types, defaults, search
//! space and export rule. The entries themselves are in `catalogue` (and `methods`), the bounds
//! of their numbers in `limits`.

use super::limits;

/// What kind of thing an operation constructs; a field's type names the category it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Category {
    /// `dataset { source = … }`
    Source,
    /// `dataset { split = … }`
    Split,
    /// `model m = …`
    Arch,
    Optim,
    Sched,
    /// `train` itself: its fields are the training recipe.
    Train,
    /// `unlearn u = method(original)`
    Method,
    Metric,
    /// `tune = search(…)` in an `unlearn` block.
    Search,
    /// Steps the engine adds on its own (measurements, tables, reports): never written in a
    /// file, catalogued for their versions.
    Engine,
}

impl Category {
    /// The category's name without an article, for "unknown model architecture `x`".
    pub(crate) fn noun(self) -> &'static str {
        let d = self.describe();
        d.strip_prefix("a ").or_else(|| d.strip_prefix("an ")).unwrap_or(d)
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Category::Source => "a dataset source",
            Category::Split => "a split",
            Category::Arch => "a model architecture",
            Category::Optim => "an optimiser",
            Category::Sched => "a learning-rate schedule",
            Category::Train => "a training recipe",
            Category::Method => "an unlearning method",
            Category::Metric => "a metric",
            Category::Search => "a hyper-parameter search",
            Category::Engine => "an engine step",
        }
    }
}

/// An upper bound on a number a file gives, with where it comes from (see `limits`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limit<T> {
    pub(crate) max: T,
    /// Why the bound is where it is, for the diagnostic that enforces it; `None` for a bound in
    /// the nature of the field (a fraction's 1), which needs no reason.
    pub(crate) why: Option<&'static str>,
}

impl<T> Limit<T> {
    /// A bound munl chose, for `why`.
    pub(crate) const fn new(max: T, why: &'static str) -> Limit<T> {
        Limit { max, why: Some(why) }
    }

    /// A bound in the nature of the field.
    pub(crate) const fn natural(max: T) -> Limit<T> {
        Limit { max, why: None }
    }
}

/// The type of a field or argument. Every number has both bounds, checked when a file is
/// lowered, so no value that passes `munl check` is out of what the backend handles.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Ty {
    /// An integer in `min..=max`.
    Int {
        min: i64,
        max: Limit<i64>,
    },
    /// A finite number in `[min, max]`.
    Float {
        min: f64,
        max: Limit<f64>,
    },
    Str,
    Bool,
    /// A list of `min_len..=max_len` integers, each in `min..=max`.
    IntList {
        min: i64,
        max: Limit<i64>,
        min_len: usize,
        max_len: Limit<usize>,
    },
    /// A number, or a list of at most `max_len` numbers (one per phase, e.g. RNI's fine-tuning
    /// learning rates), each in `[0, max]`.
    Floats {
        max: Limit<f64>,
        max_len: Limit<usize>,
    },
    /// A call (or bare name) of an operation of this category.
    Call(Category),
    /// One of a fixed set of bare names.
    Word(&'static [&'static str]),
}

impl Ty {
    pub(crate) fn describe(&self) -> String {
        match self {
            Ty::Int { .. } => "an integer".into(),
            Ty::Float { .. } => "a number".into(),
            Ty::Str => "a string".into(),
            Ty::Bool => "`true` or `false`".into(),
            Ty::IntList { .. } => "a list of integers".into(),
            Ty::Floats { .. } => "a number or a list of numbers".into(),
            Ty::Call(c) => c.describe().into(),
            Ty::Word(words) => {
                let w: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
                format!("one of {}", w.join(", "))
            }
        }
    }

    /// The type in a few characters with its bounds, for `munl methods`' columns:
    /// `int 1..=10000`, `number 0..=1`, `number ≥ 0`, `optimiser`, `reference|none`.
    pub(crate) fn short(&self) -> String {
        let range = |min: f64, max: f64| if max == f64::MAX { format!("≥ {min}") } else { format!("{min}..={max}") };
        match self {
            Ty::Int { min, max } => format!("int {min}..={}", max.max),
            Ty::Float { min, max } => format!("number {}", range(*min, max.max)),
            Ty::Str => "string".into(),
            Ty::Bool => "bool".into(),
            Ty::IntList { min, max, .. } => format!("[int {min}..={}]", max.max),
            Ty::Floats { max, .. } => format!("number or [number] {}", range(0.0, max.max)),
            Ty::Call(c) => c.noun().into(),
            Ty::Word(words) => words.join("|"),
        }
    }
}

/// A field's default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Default {
    Required,
    Int(i64),
    Float(f64),
    Str(&'static str),
    Bool(bool),
    IntList(&'static [i64]),
    FloatList(&'static [f64]),
    /// The named op with all its defaults.
    Call(&'static str),
    Word(&'static str),
}

/// The reference search distribution of a field (spec unlearners.md §1, "generic HPs").
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Space {
    LogUniform(f64, f64),
    Uniform(f64, f64),
    /// `int_uniform(1, E_max)`, E_max = ceil(0.2 × the original's epochs).
    Epochs,
    /// `uniform(1, E_max)`: fractional epochs (PRMQ).
    EpochsFloat,
    IntUniform(i64, i64),
    Choice(&'static [i64]),
    Fixed(f64),
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Space::LogUniform(a, b) => write!(f, "log_uniform({a:e}, {b:e})"),
            Space::Uniform(a, b) => write!(f, "uniform({a}, {b})"),
            Space::Epochs => f.write_str("int_uniform(1, E_max), E_max = ⌈0.2 × the Original's epochs⌉"),
            Space::EpochsFloat => f.write_str("uniform(1, E_max), E_max = ⌈0.2 × the Original's epochs⌉"),
            Space::IntUniform(a, b) => write!(f, "int_uniform({a}, {b})"),
            Space::Choice(c) => write!(f, "choice({c:?})"),
            Space::Fixed(v) => write!(f, "fixed {v}"),
        }
    }
}

/// One field of an operation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldSpec {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) default: Default,
    pub(crate) space: Option<Space>,
    pub(crate) doc: &'static str,
    /// How the reference's search knows this field; `None` if the reference does not search it.
    pub(crate) reference: Option<Reference>,
}

/// A field as the reference's hyper-parameter search has it (search.md §4.2, §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reference {
    /// Its config path relative to `unlearner.cfg` (`optimizer.learning_rate`,
    /// `forget_optimizer.learning_rate`, `num_epochs`): the parameter's name in the reference's
    /// Optuna study, by which NSGA-III sorts its relative search space.
    pub(crate) name: &'static str,
    /// Where the reference suggests it among the method's searched fields.
    pub(crate) slot: Slot,
}

/// A place in the order the reference suggests a method's parameters: the order of the
/// method's `HYPER_PARAMETERS` dict (search.md §8). Most methods merge their own parameters
/// with the generic block of `munl/settings.py` — learning rate, momentum, weight decay, batch
/// size, epochs — written after them (`{own…, **HYPER_PARAMETERS}`: BT, FCS, MSG, CFW, PRMQ,
/// KDE, RNI) or before them (`{**HYPER_PARAMETERS, own…}`: NG+, SalUn). Slots order as every
/// `Own` < every `Generic` < every `After`, each kind by its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Slot {
    /// The method's own parameters suggested before the generic block (or a method without it).
    Own(u8),
    /// The generic block: 0 learning rate, 1 momentum, 2 weight decay, 3 batch size, 4 epochs.
    Generic(u8),
    /// The method's own parameters suggested after the generic block.
    After(u8),
}

impl FieldSpec {
    /// The field as the reference searches it: suggested at `slot`, named `name` there.
    pub(crate) const fn suggested(self, slot: Slot, name: &'static str) -> FieldSpec {
        FieldSpec { reference: Some(Reference { name, slot }), ..self }
    }

    /// The name a search sorts this field by: the reference's where it searches the field,
    /// else munl's own.
    pub(crate) fn reference_name(&self) -> &'static str {
        self.reference.map_or(self.name, |r| r.name)
    }
}

/// One operation of the catalogue.
#[derive(Debug)]
pub(crate) struct OpSpec {
    pub(crate) name: &'static str,
    pub(crate) category: Category,
    /// Part of every key of this op: bump it when its numerics change.
    pub(crate) version: u32,
    pub(crate) doc: &'static str,
    /// Reference behaviours a researcher should know about ([QUIRK]s reproduced, deviations).
    pub(crate) quirks: &'static [&'static str],
    /// Fields that may be given positionally, in order.
    pub(crate) positional: &'static [&'static str],
    pub(crate) fields: &'static [FieldSpec],
    /// How a search's best values become the final run's (unlearners.md §4); methods only.
    pub(crate) export: Export,
}

/// The reference's rules for exporting a search's best trial to the final runs (unlearners.md
/// §4), applied with `export: reference`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Export {
    /// Searched fields the final runs do not take (they keep the default).
    pub(crate) drop: &'static [&'static str],
    /// Float fields truncated to whole numbers.
    pub(crate) truncate: &'static [&'static str],
}

impl Export {
    /// Every searched value is used as it is.
    pub(crate) const KEEP: Export = Export { drop: &[], truncate: &[] };
}

impl OpSpec {
    pub(crate) fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The fields in the order a search suggests them: those the reference searches in the
    /// reference's order (their [`Slot`]s), then the others in catalogue order.
    pub(crate) fn suggestion_order(&self) -> Vec<&FieldSpec> {
        let mut fields: Vec<&FieldSpec> = self.fields.iter().collect();
        // Stable: fields without a slot keep their catalogue order, after every slotted one.
        fields.sort_by_key(|f| (f.reference.is_none(), f.reference.map(|r| r.slot)));
        fields
    }
}

pub(crate) const fn field(name: &'static str, ty: Ty, default: Default, doc: &'static str) -> FieldSpec {
    FieldSpec { name, ty, default, space: None, doc, reference: None }
}

pub(crate) const fn searched(
    name: &'static str,
    ty: Ty,
    default: Default,
    space: Space,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec { name, ty, default, space: Some(space), doc, reference: None }
}

/// A count of something (epochs, images, classes …) up to `max`.
pub(crate) const fn count(max: Limit<i64>) -> Ty {
    Ty::Int { min: 1, max }
}

/// A seed: any 32-bit unsigned integer.
pub(crate) const SEED: Ty = Ty::Int { min: 0, max: limits::SEED };
/// Epochs of a run.
pub(crate) const EPOCHS: Ty = count(limits::EPOCHS);
/// A batch size.
pub(crate) const BATCH: Ty = count(limits::BATCH);
/// A learning rate, weight decay or penalty weight.
pub(crate) const RATE: Ty = Ty::Float { min: 0.0, max: limits::FINITE };
pub(crate) const FRACTION: Ty = Ty::Float { min: 0.0, max: Limit::natural(1.0) };
