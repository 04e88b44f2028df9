//! The metrics an `evaluate` can ask for, as a type. Each is also a catalogue entry (category
//! `Metric`, with its documentation and version); a test keeps the two in step.

use serde::{Deserialize, Serialize};

/// One metric of an evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Metric {
    Accuracy,
    Mia,
    Indiscernibility,
    Rte,
    Retention,
    Sape,
    Distance,
    /// U-LiRA, over the evaluation's `over` dimensions rather than per seed.
    Ulira,
}

impl Metric {
    /// Every metric, in catalogue order.
    pub(crate) const ALL: [Metric; 8] = [
        Metric::Accuracy,
        Metric::Mia,
        Metric::Indiscernibility,
        Metric::Rte,
        Metric::Retention,
        Metric::Sape,
        Metric::Distance,
        Metric::Ulira,
    ];

    /// What an `evaluate` measures when it does not say.
    pub(crate) const DEFAULT: [Metric; 4] = [Metric::Accuracy, Metric::Mia, Metric::Indiscernibility, Metric::Rte];

    /// The name in `.munl` files and in the catalogue.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Mia => "mia",
            Metric::Indiscernibility => "indiscernibility",
            Metric::Rte => "rte",
            Metric::Retention => "retention",
            Metric::Sape => "sape",
            Metric::Distance => "distance",
            Metric::Ulira => "ulira",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Compared with a reference model's same seed: meaningless without one.
    pub(crate) fn needs_reference(self) -> bool {
        matches!(self, Metric::Rte | Metric::Retention | Metric::Sape | Metric::Distance)
    }
}

#[cfg(test)]
mod tests {
    use super::Metric;
    use crate::ops::{in_category, Category};

    #[test]
    fn every_metric_is_a_catalogue_entry_and_back() {
        let names: Vec<&str> = in_category(Category::Metric).map(|op| op.name).collect();
        assert_eq!(names, Metric::ALL.map(Metric::name));
        for name in names {
            assert_eq!(Metric::from_name(name).map(Metric::name), Some(name));
        }
    }
}
