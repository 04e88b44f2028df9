//! A report across settings, analysed: each setting's name and architecture, each method's rank
//! in every setting, its mean rank and range over the settings (overall and per architecture),
//! how often it is in a setting's top group, and what keeps a rank from meaning much. Pure: the
//! formats render what [`analyse`] returns.

use super::present::{distinct, Setting};
use crate::artifact::table::Table;

/// The analysis of a report across settings.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Across {
    /// Per setting, in the report's order.
    pub(crate) settings: Vec<Named>,
    /// The architectures of the settings that have one, in order of first appearance.
    pub(crate) architectures: Vec<String>,
    /// Best mean rank first; methods never ranked last, in order of first appearance.
    pub(crate) methods: Vec<Method>,
    /// What keeps ranks from being compared: settings without a ranking, methods ranked last
    /// because their RetDev is unavailable.
    pub(crate) notes: Vec<String>,
}

/// How a setting is called and what it is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Named {
    /// `mnist / cnn`, or the evaluation's name when the rows differ in dataset or architecture;
    /// then the coordinates; led by the evaluation's name when another setting has the same name.
    pub(crate) name: String,
    /// The one dataset of the shown rows, if they share one.
    pub(crate) dataset: Option<String>,
    /// The one architecture of the shown rows, if they share one.
    pub(crate) arch: Option<String>,
    /// Whether the setting's table has a ranking.
    pub(crate) ranked: bool,
}

/// One method (matched by name) across the settings.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Method {
    pub(crate) name: String,
    /// Per setting: its place there; `None` where the method is absent or not ranked.
    pub(crate) places: Vec<Option<Place>>,
    /// Over every setting that ranks it; `None` when none does.
    pub(crate) overall: Option<Spread>,
    /// Per architecture of [`Across::architectures`], over that architecture's settings.
    pub(crate) per_arch: Vec<Option<Spread>>,
    /// In how many settings it is in the top group.
    pub(crate) top: usize,
}

/// A method's place in one setting's ranking.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Place {
    pub(crate) rank: usize,
    /// Rank 1, or statistically tied with the rank-1 method.
    pub(crate) top: bool,
}

/// Ranks over several settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Spread {
    pub(crate) mean: f64,
    pub(crate) min: usize,
    pub(crate) max: usize,
    /// How many settings.
    pub(crate) n: usize,
}

impl Spread {
    /// The spread of some ranks; `None` for none.
    fn of(ranks: impl IntoIterator<Item = usize>) -> Option<Spread> {
        let ranks: Vec<usize> = ranks.into_iter().collect();
        let (min, max) = (*ranks.iter().min()?, *ranks.iter().max()?);
        let mean = ranks.iter().sum::<usize>() as f64 / ranks.len() as f64;
        Some(Spread { mean, min, max, n: ranks.len() })
    }

    /// The mean rank to two decimals.
    pub(crate) fn mean_cell(&self) -> String {
        format!("{:.2}", self.mean)
    }

    /// `min–max`, with `dash` between.
    pub(crate) fn range(&self, dash: &str) -> String {
        format!("{}{dash}{}", self.min, self.max)
    }
}

impl Method {
    /// `k of n`: in the top group of k of the n settings that rank it.
    pub(crate) fn top_cell(&self) -> String {
        format!("{} of {}", self.top, self.overall.map_or(0, |s| s.n))
    }
}

impl Place {
    /// A rank as a table cell: `bold` of it in the top group, `none` where it is not ranked.
    pub(crate) fn cell(place: Option<Place>, bold: impl Fn(usize) -> String, none: &str) -> String {
        match place {
            Some(p) if p.top => bold(p.rank),
            Some(p) => p.rank.to_string(),
            None => none.to_string(),
        }
    }
}

/// Ranking rule, top group and mean rank in words, for every format.
pub(crate) const RULES: &str =
    "Within each setting, methods are ranked by RetDev as ratio of means (ascending), equal \
     values by Indisc of the mean test MIA (descending); the reference is not ranked. Mean rank and range (min–max) \
     are over the settings that rank the method, per architecture over that architecture's settings. Top group: the \
     setting's rank-1 method and every method statistically tied with it (overlapping 95 % CIs of the per-seed \
     RetDev); \"k of n\": in the top group of k of the n settings that rank the method. Ranks count the methods of \
     each setting, so a setting with more methods has larger ranks.";

/// The analysis of the settings of a report across settings.
pub(crate) fn analyse(settings: &[Setting]) -> Across {
    let named = names(settings);
    let architectures = distinct(named.iter().filter_map(|n| n.arch.clone()));
    let mut methods: Vec<Method> =
        method_names(settings).into_iter().map(|m| method(m, settings, &named, &architectures)).collect();
    // Stable: equal means (and the never ranked) keep their order of first appearance.
    methods.sort_by(|a, b| match (a.overall, b.overall) {
        (Some(x), Some(y)) => x.mean.total_cmp(&y.mean),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let notes = notes(settings, &named);
    Across { settings: named, architectures, methods, notes }
}

/// The one value of `values` if they are all that same non-empty value.
fn single<'a>(mut values: impl Iterator<Item = &'a str>) -> Option<String> {
    let first = values.next().filter(|v| !v.is_empty())?;
    values.all(|v| v == first).then(|| first.to_string())
}

/// The indices of a table's shown rows that the labels name.
fn shown(t: &Table) -> std::ops::Range<usize> {
    0..t.shown.min(t.rows.len())
}

/// Each setting's name, dataset and architecture; names shared by several settings are led by
/// the evaluation's.
fn names(settings: &[Setting]) -> Vec<Named> {
    let mut named: Vec<Named> = settings
        .iter()
        .map(|s| {
            let l = &s.labels;
            let of = |v: &[String]| single(shown(&s.table).map(|i| v.get(i).map_or("", String::as_str)));
            let (dataset, arch) = (of(&l.datasets), of(&l.models));
            let mut name = match (&dataset, &arch) {
                (Some(d), Some(a)) => format!("{d} / {a}"),
                _ => s.evaluation.clone(),
            };
            for (d, v) in &s.coords {
                name.push_str(&format!(", {d} = {v}"));
            }
            Named { name, dataset, arch, ranked: !s.table.ranking.is_empty() }
        })
        .collect();
    let clashes: Vec<bool> = named.iter().map(|n| named.iter().filter(|o| o.name == n.name).count() > 1).collect();
    for ((n, s), clash) in named.iter_mut().zip(settings).zip(clashes) {
        if clash {
            n.name = format!("{}: {}", s.evaluation, n.name);
        }
    }
    named
}

/// The names of the shown rows other than the reference, over all settings, in order of first
/// appearance.
fn method_names(settings: &[Setting]) -> Vec<String> {
    distinct(settings.iter().flat_map(|s| {
        shown(&s.table).filter(move |&i| s.table.reference != Some(i)).map(move |i| s.labels.method(i).to_string())
    }))
}

/// The place of the method called `name` in a setting's ranking, if it is ranked there.
fn place(name: &str, s: &Setting) -> Option<Place> {
    let ranking = &s.table.ranking;
    let r = ranking.iter().find(|r| s.labels.method(r.row) == name)?;
    let best = ranking.iter().find(|b| b.rank == 1)?;
    Some(Place { rank: r.rank, top: r.row == best.row || best.tied_with.contains(&r.row) })
}

/// One method's places, spreads and top-group count.
fn method(name: String, settings: &[Setting], named: &[Named], architectures: &[String]) -> Method {
    let places: Vec<Option<Place>> = settings.iter().map(|s| place(&name, s)).collect();
    // Over the settings of one architecture, or of all.
    let spread = |arch: Option<&str>| {
        let of_arch = places.iter().zip(named).filter(|(_, n)| arch.is_none() || n.arch.as_deref() == arch);
        Spread::of(of_arch.filter_map(|(p, _)| p.map(|p| p.rank)))
    };
    Method {
        overall: spread(None),
        per_arch: architectures.iter().map(|a| spread(Some(a))).collect(),
        top: places.iter().flatten().filter(|p| p.top).count(),
        places,
        name,
    }
}

/// Settings without a ranking, and methods ranked last for want of a RetDev.
fn notes(settings: &[Setting], named: &[Named]) -> Vec<String> {
    let mut out = vec![];
    for (s, n) in settings.iter().zip(named) {
        if !n.ranked {
            out.push(format!(
                "{} has no ranking (it needs the metric `retention` and a reference): its methods are not ranked there",
                n.name
            ));
        }
        for r in &s.table.ranking {
            if let Some(note) = &r.note {
                out.push(format!("{} in {} ranks last: {note}", s.labels.method(r.row), n.name));
            }
        }
    }
    out
}
