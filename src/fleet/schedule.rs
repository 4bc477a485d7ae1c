//! Which host starts when: bounded parallelism, rolling batches, stopping
//! after too many failures. Pure (no threads, no clock): both executors of
//! [`Fleet`](super::Fleet) ask it, so blocking and tokio runs start the
//! same hosts in the same order.

use super::FleetOptions;

/// The state of one fleet run.
#[derive(Debug)]
pub(crate) struct Schedule {
    total: usize,
    parallel: usize,
    batch: Option<usize>,
    max_failures: Option<usize>,
    next: usize,
    running: usize,
    failures: usize,
    /// End (exclusive) of the rolling batch being run.
    batch_end: usize,
    interrupted: bool,
}

impl Schedule {
    pub(crate) fn new(total: usize, options: &FleetOptions) -> Schedule {
        Schedule {
            total,
            parallel: options.parallel.max(1),
            batch: options.rolling.map(|n| n.max(1)),
            max_failures: options.max_failures(),
            next: 0,
            running: 0,
            failures: 0,
            batch_end: 0,
            interrupted: false,
        }
    }

    /// The next host to start now (its index), if one may start.
    pub(crate) fn start(&mut self) -> Option<usize> {
        if self.stopped() || self.next >= self.total || self.running >= self.parallel {
            return None;
        }
        if let Some(n) = self.batch {
            if self.next >= self.batch_end {
                // A rolling batch starts only once the last one is over.
                if self.running > 0 {
                    return None;
                }
                self.batch_end = (self.next + n).min(self.total);
            }
        }
        let index = self.next;
        self.next += 1;
        self.running += 1;
        Some(index)
    }

    /// A host finished; `interrupted`: dockhand got SIGINT/SIGTERM (no
    /// host starts after that).
    pub(crate) fn finished(&mut self, ok: bool, interrupted: bool) {
        self.running = self.running.saturating_sub(1);
        self.failures += usize::from(!ok);
        self.interrupted |= interrupted;
    }

    fn stopped(&self) -> bool {
        self.interrupted || self.max_failures.is_some_and(|k| self.failures >= k)
    }

    /// Nothing runs and nothing more will start.
    pub(crate) fn is_over(&self) -> bool {
        self.running == 0 && (self.next >= self.total || self.stopped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run a schedule where host i fails when `fails(i)`, finishing hosts
    /// in start order; the list of waves (hosts started together).
    fn waves(
        total: usize,
        options: FleetOptions,
        fails: impl Fn(usize) -> bool,
    ) -> Vec<Vec<usize>> {
        let mut s = Schedule::new(total, &options);
        let mut waves = Vec::new();
        let mut running = std::collections::VecDeque::new();
        loop {
            let mut wave = Vec::new();
            while let Some(i) = s.start() {
                wave.push(i);
                running.push_back(i);
            }
            if !wave.is_empty() {
                waves.push(wave);
            }
            if s.is_over() {
                return waves;
            }
            let done = running.pop_front().expect("something runs");
            s.finished(!fails(done), false);
        }
    }

    fn opts(parallel: usize, rolling: Option<usize>, max_failures: Option<usize>) -> FleetOptions {
        FleetOptions {
            parallel,
            rolling,
            max_failures,
        }
    }

    #[test]
    fn parallel_bounds_how_many_run_at_once() {
        let w = waves(5, opts(2, None, None), |_| false);
        assert_eq!(w, [vec![0, 1], vec![2], vec![3], vec![4]]);
    }

    #[test]
    fn without_rolling_failures_do_not_stop_the_rest() {
        let w = waves(4, opts(1, None, None), |i| i < 3);
        assert_eq!(w.concat(), [0, 1, 2, 3]);
    }

    #[test]
    fn rolling_batches_wait_for_each_other_and_stop_after_a_failure() {
        let w = waves(7, opts(10, Some(2), None), |_| false);
        assert_eq!(w, [vec![0, 1], vec![2, 3], vec![4, 5], vec![6]]);
        // Rolling stops at the first failed batch by default.
        let w = waves(7, opts(10, Some(2), None), |i| i == 3);
        assert_eq!(w, [vec![0, 1], vec![2, 3]]);
        // --max-failures 2: a second failure stops it.
        let w = waves(7, opts(10, Some(2), Some(2)), |i| i == 1 || i == 4);
        assert_eq!(w, [vec![0, 1], vec![2, 3], vec![4, 5]]);
    }

    #[test]
    fn max_failures_stops_starting_hosts_in_a_parallel_run() {
        let w = waves(6, opts(2, None, Some(1)), |i| i == 0);
        assert_eq!(w.concat(), [0, 1]);
    }

    #[test]
    fn an_interrupt_starts_nothing_more_and_empty_fleets_are_over() {
        let mut s = Schedule::new(3, &opts(1, None, None));
        assert_eq!(s.start(), Some(0));
        s.finished(false, true);
        assert_eq!(s.start(), None);
        assert!(s.is_over());
        assert!(Schedule::new(0, &opts(4, None, None)).is_over());
    }
}
