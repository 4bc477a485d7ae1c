//! Retry decisions, as pure functions: no clock, no sleeping.
//!
//! The executor asks [`RetryPolicy::decide`] after each failed attempt and
//! sleeps for what it is told. Only transient failures
//! ([`Error::is_transient`]) are retried: a missing container or a bad
//! argument fails the same way every time.

use std::time::Duration;

use crate::error::Error;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Stop and report the error.
    GiveUp,
}

/// Exponential backoff with jitter over a bounded number of attempts.
///
/// The jitter is derived from `seed` and the attempt number, so a policy
/// always gives the same delays — tests need no clock and no randomness.
///
/// ```
/// use std::time::Duration;
/// use dockhand::{Error, ErrorKind, engine::retry::{Decision, RetryPolicy}};
/// let p = RetryPolicy { attempts: 3, initial_delay: Duration::from_secs(1), ..RetryPolicy::default() };
/// let down = Error::new(ErrorKind::Unreachable, "daemon down");
/// assert!(matches!(p.decide(1, &down), Decision::RetryAfter(_)));
/// assert_eq!(p.decide(3, &down), Decision::GiveUp);
/// assert_eq!(p.decide(1, &Error::new(ErrorKind::NotFound, "no such container")), Decision::GiveUp);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts, the first included (1 = never retry).
    pub attempts: u32,
    /// Delay before the second attempt; doubles after each further failure.
    pub initial_delay: Duration,
    /// Upper bound on any one delay.
    pub max_delay: Duration,
    /// Fraction of each delay that is randomised (0.0–1.0): the delay is
    /// drawn from `[d*(1-jitter), d]`.
    pub jitter: f64,
    /// Seed of the deterministic jitter.
    pub seed: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            jitter: 0.2,
            seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn never() -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Decide after failed attempt number `attempt` (1-based) with `err`.
    pub fn decide(&self, attempt: u32, err: &Error) -> Decision {
        if !err.is_transient() || attempt >= self.attempts {
            return Decision::GiveUp;
        }
        let exp = self
            .initial_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let base = exp.min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0) * unit_noise(self.seed, attempt);
        Decision::RetryAfter(base.mul_f64(1.0 - jitter))
    }
}

/// A deterministic number in [0, 1) from (seed, attempt): splitmix64.
fn unit_noise(seed: u64, attempt: u32) -> f64 {
    let mut z = seed.wrapping_add(u64::from(attempt).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn transient() -> Error {
        Error::new(ErrorKind::EngineFailure, "connection reset by peer").with_transient(true)
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let p = RetryPolicy {
            attempts: 10,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(5),
            jitter: 0.2,
            seed: 42,
        };
        let delays: Vec<Duration> = (1..10)
            .map(|a| match p.decide(a, &transient()) {
                Decision::RetryAfter(d) => d,
                Decision::GiveUp => panic!("gave up at {a}"),
            })
            .collect();
        let bases = [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0];
        for (d, base) in delays.iter().zip(bases) {
            let s = d.as_secs_f64();
            assert!(
                s <= base && s >= base * 0.8,
                "{s} not in [{}, {base}]",
                base * 0.8
            );
        }
        assert_eq!(p.decide(10, &transient()), Decision::GiveUp);
    }

    #[test]
    fn same_seed_same_delays_other_seed_other_delays() {
        let a = RetryPolicy {
            seed: 1,
            ..RetryPolicy::default()
        };
        let b = RetryPolicy {
            seed: 2,
            ..RetryPolicy::default()
        };
        assert_eq!(a.decide(1, &transient()), a.decide(1, &transient()));
        assert_ne!(a.decide(1, &transient()), b.decide(1, &transient()));
    }

    #[test]
    fn permanent_kinds_are_never_retried() {
        let p = RetryPolicy {
            attempts: 5,
            ..RetryPolicy::default()
        };
        for kind in [
            ErrorKind::NotFound,
            ErrorKind::Conflict,
            ErrorKind::InvalidInput,
            ErrorKind::Timeout,
            ErrorKind::Parse,
            ErrorKind::PermissionDenied,
            ErrorKind::EngineMissing,
        ] {
            assert_eq!(
                p.decide(1, &Error::new(kind, "x")),
                Decision::GiveUp,
                "{kind}"
            );
        }
    }

    #[test]
    fn never_policy_gives_up_at_once() {
        assert_eq!(
            RetryPolicy::never().decide(1, &transient()),
            Decision::GiveUp
        );
    }
}
