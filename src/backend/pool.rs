//! Several backends as one: a [`Pool`] sends each job to the member with the fewest jobs in
//! flight (one worker per device in the CLI), and accounts for what each member did.
//!
//! The choice and the accounting are a [`Ledger`], a pure structure driven with explicit
//! instants, so that they are tested without processes or clocks.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Backend, Job};
use crate::artifact::NodeFailure;

/// A backend that can be stopped: the run is ending, the jobs in flight fail and later ones
/// are refused.
pub(crate) trait Abort: Backend {
    /// Stops now.
    fn abort(&self);
}

/// What one member of a pool did during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    /// Jobs that succeeded.
    pub(crate) computed: u64,
    /// Jobs that failed.
    pub(crate) failed: u64,
    /// Time with at least one job in flight: concurrent jobs count once.
    pub(crate) busy: Duration,
}

/// The index of the least loaded member: the fewest jobs in flight, and of those the first, so
/// that scarce work keeps to one member. `None` when there are no members.
pub(crate) fn least_loaded(in_flight: &[usize]) -> Option<usize> {
    // `min_by_key` returns the first of equal minima.
    in_flight.iter().enumerate().min_by_key(|&(_, n)| *n).map(|(i, _)| i)
}

/// One member's state in a [`Ledger`].
#[derive(Debug, Default)]
struct Slot {
    in_flight: usize,
    /// When the current busy interval began (set while `in_flight > 0`).
    since: Option<Instant>,
    usage: Usage,
}

impl Slot {
    /// The busy time up to `now`, the open interval included.
    fn busy_until(&self, now: Instant) -> Duration {
        self.usage.busy + self.since.map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }
}

/// Jobs in flight per member, and what each member has done.
#[derive(Debug)]
pub(crate) struct Ledger {
    slots: Vec<Slot>,
}

impl Ledger {
    /// A ledger of `members` idle members.
    pub(crate) fn new(members: usize) -> Ledger {
        Ledger { slots: (0..members).map(|_| Slot::default()).collect() }
    }

    /// Chooses the least loaded member for a job starting at `now` and counts the job in flight
    /// there; `None` when there are no members.
    pub(crate) fn start(&mut self, now: Instant) -> Option<usize> {
        let loads: Vec<usize> = self.slots.iter().map(|s| s.in_flight).collect();
        let i = least_loaded(&loads)?;
        let slot = &mut self.slots[i];
        if slot.in_flight == 0 {
            slot.since = Some(now);
        }
        slot.in_flight += 1;
        Some(i)
    }

    /// Ends a job of member `i` at `now`; `ok` says whether it succeeded.
    pub(crate) fn finish(&mut self, i: usize, now: Instant, ok: bool) {
        let Some(slot) = self.slots.get_mut(i) else { return };
        slot.in_flight = slot.in_flight.saturating_sub(1);
        if slot.in_flight == 0 {
            slot.usage.busy = slot.busy_until(now);
            slot.since = None;
        }
        if ok {
            slot.usage.computed += 1;
        } else {
            slot.usage.failed += 1;
        }
    }

    /// Each member's usage up to `now`, in member order (busy intervals still open count up to
    /// `now`).
    pub(crate) fn usage(&self, now: Instant) -> Vec<Usage> {
        self.slots.iter().map(|s| Usage { busy: s.busy_until(now), ..s.usage }).collect()
    }
}

/// Backends used as one: each job runs on the least loaded member.
pub(crate) struct Pool<B> {
    members: Vec<B>,
    ledger: Mutex<Ledger>,
}

impl<B: Abort> Pool<B> {
    /// A pool of `members`, none of them busy.
    pub(crate) fn new(members: Vec<B>) -> Pool<B> {
        let ledger = Mutex::new(Ledger::new(members.len()));
        Pool { members, ledger }
    }

    /// Stops every member (see [`Abort`]).
    pub(crate) fn abort(&self) {
        for member in &self.members {
            member.abort();
        }
    }

    /// What each member has done so far, in member order.
    pub(crate) fn usage(&self) -> Vec<Usage> {
        self.ledger().usage(Instant::now())
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A job counted in flight on a member until dropped, so that a panicking member still ends it
/// (as a failure).
struct InFlight<'a> {
    ledger: &'a Mutex<Ledger>,
    member: usize,
    ok: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.ledger.lock().unwrap_or_else(|e| e.into_inner()).finish(self.member, Instant::now(), self.ok);
    }
}

impl<B: Abort> Backend for Pool<B> {
    fn run(&self, job: &Job<'_>) -> Result<(), NodeFailure> {
        let member = self.ledger().start(Instant::now()).ok_or_else(|| NodeFailure::new("no device to compute on"))?;
        let mut in_flight = InFlight { ledger: &self.ledger, member, ok: false };
        let result = self.members[member].run(job);
        in_flight.ok = result.is_ok();
        result
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc::{channel, Receiver, Sender};

    use super::*;
    use crate::digest::Key;
    use crate::plan::{Node, Paths, Payload};

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn the_least_loaded_member_is_chosen() {
        assert_eq!(least_loaded(&[2, 1, 3]), Some(1));
        assert_eq!(least_loaded(&[4, 3, 0]), Some(2));
        assert_eq!(least_loaded(&[]), None);
    }

    /// Ties go to the lowest index, so that one device is used first when work is scarce.
    #[test]
    fn ties_go_to_the_first_member() {
        assert_eq!(least_loaded(&[0, 0, 0]), Some(0));
        assert_eq!(least_loaded(&[1, 0, 0]), Some(1));
        assert_eq!(least_loaded(&[1, 1, 1]), Some(0));
    }

    /// Jobs spread over the members as they start, and go back to the first one whenever it is
    /// idle again.
    #[test]
    fn jobs_fill_the_members_in_turn() {
        let t0 = Instant::now();
        let mut ledger = Ledger::new(2);
        assert_eq!(ledger.start(t0), Some(0));
        assert_eq!(ledger.start(t0), Some(1));
        assert_eq!(ledger.start(t0), Some(0));
        ledger.finish(0, t0 + S, true);
        ledger.finish(0, t0 + S, true);
        assert_eq!(ledger.start(t0 + S), Some(0), "member 0 is idle again, member 1 is not");
        assert_eq!(Ledger::new(0).start(t0), None);
    }

    /// Busy time is the union of the jobs' intervals: jobs at 0..10 s and 3..15 s keep a member
    /// busy 15 s, not 17 s, and an idle gap does not count.
    #[test]
    fn busy_time_is_a_union_of_intervals() {
        let t0 = Instant::now();
        let mut ledger = Ledger::new(2);
        assert_eq!(ledger.start(t0), Some(0)); // 0..10
        assert_eq!(ledger.start(t0 + 2 * S), Some(1)); // 2..20, failing
        assert_eq!(ledger.start(t0 + 3 * S), Some(0), "a tie goes to the first"); // 3..15
        ledger.finish(0, t0 + 10 * S, true);
        ledger.finish(0, t0 + 15 * S, true);
        ledger.finish(1, t0 + 20 * S, false);
        assert_eq!(ledger.start(t0 + 30 * S), Some(0)); // 30..35
        ledger.finish(0, t0 + 35 * S, true);
        let usage = ledger.usage(t0 + 40 * S);
        assert_eq!(usage[0], Usage { computed: 3, failed: 0, busy: 20 * S });
        assert_eq!(usage[1], Usage { computed: 0, failed: 1, busy: 18 * S });
    }

    #[test]
    fn overlapping_jobs_on_one_member_count_once() {
        let t0 = Instant::now();
        let mut ledger = Ledger::new(1);
        ledger.start(t0); // 0..10
        ledger.start(t0 + 2 * S); // 2..15
        ledger.finish(0, t0 + 10 * S, true);
        assert_eq!(ledger.usage(t0 + 12 * S)[0].busy, 12 * S, "an open interval counts up to now");
        ledger.finish(0, t0 + 15 * S, true);
        assert_eq!(ledger.usage(t0 + 50 * S)[0], Usage { computed: 2, failed: 0, busy: 15 * S });
    }

    /// A member whose jobs wait until the test releases them, and that records an abort.
    #[derive(Default)]
    struct Held {
        started: AtomicUsize,
        aborted: AtomicBool,
        release: Mutex<Option<Receiver<()>>>,
    }

    impl Backend for Held {
        fn run(&self, _job: &Job<'_>) -> Result<(), NodeFailure> {
            self.started.fetch_add(1, Ordering::SeqCst);
            let release = self.release.lock().unwrap().take();
            if let Some(rx) = release {
                let _ = rx.recv();
            }
            Ok(())
        }
    }

    impl Abort for Held {
        fn abort(&self) {
            self.aborted.store(true, Ordering::SeqCst);
        }
    }

    fn node() -> Node {
        Node {
            key: Key::of(b"measure"),
            op: "measure".into(),
            version: 1,
            payload: Payload::Measure,
            inputs: vec![],
            coords: BTreeMap::new(),
            paths: Paths::default(),
            label: "measure m [seed=0]".into(),
            decl: "m".into(),
            span: crate::span::Span::new(0, 0),
            source: 0,
        }
    }

    fn run_one(pool: &Pool<Held>) -> Result<(), NodeFailure> {
        let node = node();
        let progress = |_: u64, _: u64, _: &str| {};
        pool.run(&Job { node: &node, inputs: vec![], out: std::path::Path::new("/nonexistent"), progress: &progress })
    }

    /// Sequential jobs all go to the first member; while it computes, the next job goes to the
    /// second; `abort` reaches every member.
    #[test]
    fn a_pool_uses_a_second_member_only_while_the_first_is_busy() {
        let pool = Pool::new(vec![Held::default(), Held::default()]);
        run_one(&pool).unwrap();
        run_one(&pool).unwrap();
        assert_eq!(pool.members[0].started.load(Ordering::SeqCst), 2);
        assert_eq!(pool.members[1].started.load(Ordering::SeqCst), 0);

        let (release, rx): (Sender<()>, Receiver<()>) = channel();
        *pool.members[0].release.lock().unwrap() = Some(rx);
        std::thread::scope(|s| {
            let held = s.spawn(|| run_one(&pool));
            while pool.members[0].started.load(Ordering::SeqCst) < 3 {
                std::thread::yield_now();
            }
            run_one(&pool).unwrap();
            assert_eq!(pool.members[1].started.load(Ordering::SeqCst), 1, "member 0 was busy");
            release.send(()).unwrap();
            held.join().unwrap().unwrap();
        });
        let usage = pool.usage();
        assert_eq!((usage[0].computed, usage[1].computed), (3, 1));

        pool.abort();
        assert!(pool.members.iter().all(|m| m.aborted.load(Ordering::SeqCst)));
    }

    #[test]
    fn an_empty_pool_fails_the_job() {
        let pool: Pool<Held> = Pool::new(vec![]);
        assert!(run_one(&pool).is_err());
    }
}
