//! `munl run --timings`: where the time of the trainings and methods the run computed went, by
//! op, from the phases their `run.json` recorded (`torch/profile.rs` measures them).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::artifact::{file, read_json, Phases, RunInfo};
use crate::cache::Cache;
use crate::plan::{NodeId, Plan};

/// One line per op (`train`, each method) with its nodes, seconds and each phase's share; a
/// line saying so when no node recorded phases (all cached, or none trains).
pub(crate) fn table(plan: &Plan, cache: &Cache, ran: &[NodeId]) -> String {
    let mut by_op: BTreeMap<String, (usize, f64, Phases)> = BTreeMap::new();
    for id in ran {
        let node = plan.node(*id);
        let Some(entry) = cache.lookup(&node.key) else { continue };
        let Ok(run) = read_json::<RunInfo>(&entry.dir.join(file::RUN)) else { continue };
        let Some(p) = run.phases else { continue };
        let (n, seconds, sum) = by_op.entry(node.op.clone()).or_default();
        *n += 1;
        *seconds += run.seconds;
        sum.data += p.data;
        sum.train_forward += p.train_forward;
        sum.eval_forward += p.eval_forward;
        sum.backward += p.backward;
        sum.optimizer += p.optimizer;
        sum.other += p.other;
    }
    if by_op.is_empty() {
        return "munl: --timings: no training or unlearning run was computed, so there is nothing to profile\n".into();
    }
    let mut out = String::from(
        "where the time went (--timings; each phase timed after a synchronisation; losses are in `other`):\n",
    );
    let _ = writeln!(
        out,
        "{:<24} {:>5} {:>9} {:>6} {:>10} {:>9} {:>9} {:>10} {:>6}",
        "op", "nodes", "seconds", "data", "fwd train", "fwd eval", "backward", "optimiser", "other"
    );
    for (op, (n, seconds, p)) in by_op {
        let share = |x: f64| format!("{:.0} %", 100.0 * x / seconds.max(f64::MIN_POSITIVE));
        let _ = writeln!(
            out,
            "{op:<24} {n:>5} {seconds:>9.2} {:>6} {:>10} {:>9} {:>9} {:>10} {:>6}",
            share(p.data),
            share(p.train_forward),
            share(p.eval_forward),
            share(p.backward),
            share(p.optimizer),
            share(p.other)
        );
    }
    out
}
