//! Progress on stderr: bars on a terminal, one line per finished node otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::Event;
use crate::plan::Plan;

/// How a node's progress is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The length is not known (not reported yet, or a download of unknown size): a spinner,
    /// the elapsed time and the message.
    Spinner,
    /// A bar of `done/total`.
    Bar,
}

impl Shape {
    /// The shape for a reported `total`: 0 means the length is unknown.
    pub(crate) fn of(total: u64) -> Shape {
        if total == 0 {
            Shape::Spinner
        } else {
            Shape::Bar
        }
    }

    fn style(self) -> ProgressStyle {
        let template = match self {
            Shape::Spinner => "  {prefix:40} {spinner} {elapsed:>4} {msg}",
            Shape::Bar => "  {prefix:40} {bar:24} {pos}/{len} {elapsed:>4} {msg}",
        };
        ProgressStyle::with_template(template).expect("static template")
    }
}

/// Progress of a count of things (`munl cache verify`'s entries) on stderr: a bar on a
/// terminal, nothing otherwise (the command prints its final count itself).
pub(crate) struct Count {
    bar: Option<ProgressBar>,
}

impl Count {
    pub(crate) fn new(what: &str) -> Count {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} {bar:24} {pos}/{len} [{elapsed_precise}]")
                    .expect("static template"),
            );
            bar.set_message(what.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Count { bar }
    }

    /// `done` of `total` are through.
    pub(crate) fn set(&self, done: usize, total: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Turns engine events into progress output.
pub(crate) struct Progress<'a> {
    plan: &'a Plan,
    terminal: bool,
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<HashMap<usize, ProgressBar>>,
    /// Each node's estimated seconds (by node index) and the nodes running at once: the ETA.
    eta: Option<Eta>,
}

/// The time left: the estimates of the nodes still to finish, over the nodes run at once.
struct Eta {
    estimates: Vec<Option<f64>>,
    left: Mutex<f64>,
    jobs: usize,
}

impl Eta {
    /// Takes a finished (or abandoned) node's estimate off; the text to show, `ETA ~3 min 5 s`.
    fn finished(&self, id: crate::plan::NodeId) -> String {
        let mut left = self.left.lock().unwrap_or_else(|e| e.into_inner());
        *left = (*left - self.estimates[id.0].unwrap_or(0.0)).max(0.0);
        format!("ETA ~{} · ", crate::plan::duration(*left / self.jobs.max(1) as f64))
    }
}

impl<'a> Progress<'a> {
    pub(crate) fn new(plan: &'a Plan) -> Progress<'a> {
        let terminal = std::io::stderr().is_terminal();
        let target = if terminal { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template("{spinner} {pos}/{len} nodes [{elapsed_precise}] {wide_msg}")
                .expect("static template"),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        Progress { plan, terminal, multi, overall, bars: Mutex::new(HashMap::new()), eta: None }
    }

    /// Shows an ETA from the estimates (by node index) of the nodes `to_run`, `jobs` at once;
    /// says the estimate once when there is one.
    pub(crate) fn with_eta(mut self, estimates: Vec<Option<f64>>, to_run: &[crate::plan::NodeId], jobs: usize) -> Self {
        let known: Vec<f64> = to_run.iter().filter_map(|id| estimates[id.0]).collect();
        if known.is_empty() {
            return self;
        }
        let total: f64 = known.iter().sum();
        let wall = crate::plan::duration(total / jobs.max(1) as f64);
        self.say(&format!(
            "munl: estimated {wall} ({} of compute, {jobs} at a time; {} of {} nodes estimated from the cache)",
            crate::plan::duration(total),
            known.len(),
            to_run.len()
        ));
        self.eta = Some(Eta { estimates, left: Mutex::new(total), jobs });
        self
    }

    /// The ETA after `id` ends, as a message prefix; empty without estimates.
    fn eta_after(&self, id: crate::plan::NodeId) -> String {
        self.eta.as_ref().map_or(String::new(), |e| e.finished(id))
    }

    pub(crate) fn event(&self, event: Event<'_>) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Planned { to_run } => self.overall.set_length(to_run as u64),
            Event::Hit(_) => {}
            Event::Start(id) => {
                // Until the node reports a length, a spinner and the time it has run: a bar of
                // `0/0` would look full, as if the node were done.
                let bar = self.multi.add(ProgressBar::new(0));
                bar.set_style(Shape::Spinner.style());
                bar.set_prefix(self.plan.node(id).label.clone());
                bar.enable_steady_tick(Duration::from_millis(200));
                bars.insert(id.0, bar);
            }
            Event::Progress { id, done, total, message } => {
                if let Some(bar) = bars.get(&id.0) {
                    let shape = Shape::of(total);
                    if bar.length() != Some(total) || shape == Shape::Spinner {
                        bar.set_style(shape.style());
                    }
                    bar.set_length(total);
                    bar.set_position(done);
                    bar.set_message(message.to_string());
                }
            }
            Event::Done { id, seconds } => {
                if let Some(bar) = bars.remove(&id.0) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.overall.inc(1);
                let label = &self.plan.node(id).label;
                let eta = self.eta_after(id);
                if self.terminal {
                    self.overall.set_message(format!("{eta}done: {label}"));
                } else {
                    eprintln!("done    {label} ({seconds:.2}s)");
                }
            }
            Event::Failed { id, failure } => {
                self.eta_after(id);
                if let Some(bar) = bars.remove(&id.0) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                let _ = self.multi.println(format!("failed  {}: {}", self.plan.node(id).label, failure.message));
                if !self.terminal {
                    eprintln!("failed  {}: {}", self.plan.node(id).label, failure.message);
                }
            }
            Event::Abandoned(id) => {
                self.eta_after(id);
                if let Some(bar) = bars.remove(&id.0) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
            }
            Event::Skipped(id) => {
                self.eta_after(id);
            }
            Event::Elsewhere { id, owner } => {
                self.say(&format!("waiting {} (computed by {owner})", self.plan.node(id).label));
            }
            Event::DoneElsewhere(id) => {
                self.overall.inc(1);
                let label = &self.plan.node(id).label;
                let eta = self.eta_after(id);
                if self.terminal {
                    self.overall.set_message(format!("{eta}done elsewhere: {label}"));
                } else {
                    eprintln!("done    {label} (by another run)");
                }
            }
        }
    }

    /// A line between the bars on a terminal, a plain line otherwise.
    pub(crate) fn say(&self, line: &str) {
        if self.terminal {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    pub(crate) fn finish(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::Shape;

    #[test]
    fn an_unknown_length_spins_instead_of_showing_a_full_bar() {
        assert_eq!(Shape::of(0), Shape::Spinner, "`0/0` is not done");
        assert_eq!(Shape::of(10), Shape::Bar);
        // Both templates parse.
        let _ = (Shape::Spinner.style(), Shape::Bar.style());
    }
}
