//! Progress on stderr: bars on a terminal, one line per finished node otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::exec::Event;
use crate::plan::Plan;

/// Turns engine events into progress output.
pub(crate) struct Progress<'a> {
    plan: &'a Plan,
    terminal: bool,
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<HashMap<usize, ProgressBar>>,
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
        Progress { plan, terminal, multi, overall, bars: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn event(&self, event: Event<'_>) {
        let mut bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Planned { to_run } => self.overall.set_length(to_run as u64),
            Event::Hit(_) => {}
            Event::Start(id) => {
                let bar = self.multi.add(ProgressBar::new(0));
                bar.set_style(
                    ProgressStyle::with_template("  {prefix:40} {bar:24} {pos}/{len} {msg}").expect("static template"),
                );
                bar.set_prefix(self.plan.node(id).label.clone());
                bars.insert(id.0, bar);
            }
            Event::Progress { id, done, total, message } => {
                if let Some(bar) = bars.get(&id.0) {
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
                if self.terminal {
                    self.overall.set_message(format!("done: {label}"));
                } else {
                    eprintln!("done    {label} ({seconds:.2}s)");
                }
            }
            Event::Failed { id, failure } => {
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
                if let Some(bar) = bars.remove(&id.0) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
            }
            Event::Skipped(_) => {}
            Event::Elsewhere { id, owner } => {
                self.say(&format!("waiting {} (computed by {owner})", self.plan.node(id).label));
            }
            Event::DoneElsewhere(id) => {
                self.overall.inc(1);
                let label = &self.plan.node(id).label;
                if self.terminal {
                    self.overall.set_message(format!("done elsewhere: {label}"));
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
