//! Failed-login rate limiting per client address and per account, with an
//! injectable clock so tests advance time instead of sleeping.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::config::AuthConfig;

/// The time source of the limiter.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Instant;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to, for tests here and in the daemons.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        }
    }
}

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Failures kept per key beyond `max_failures`: enough for the doubling lockout to
/// reach any sane `lockout_max_secs`, while bounding memory per key.
const EXTRA_FAILURES_KEPT: usize = 32;
/// Past this many tracked keys, stale ones are swept on the next failure.
const SWEEP_AT: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Account(String),
}

#[derive(Debug, Default)]
struct Failures {
    times: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

/// After `max_failures` failures within `failure_window`, the IP or account is
/// locked out for `lockout_base`, doubling with each further failure up to
/// `lockout_max`.
#[derive(Debug)]
pub struct LoginLimiter {
    max_failures: usize,
    window: Duration,
    base: Duration,
    max: Duration,
    clock: std::sync::Arc<dyn Clock>,
    state: Mutex<HashMap<Key, Failures>>,
}

impl LoginLimiter {
    pub fn new(config: &AuthConfig, clock: std::sync::Arc<dyn Clock>) -> Self {
        LoginLimiter {
            max_failures: usize::try_from(config.max_failures)
                .unwrap_or(usize::MAX)
                .max(1),
            window: Duration::from_secs(config.failure_window_secs),
            base: Duration::from_secs(config.lockout_base_secs),
            max: Duration::from_secs(config.lockout_max_secs),
            clock,
            state: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(retry_after)` while the address or the account is locked out.
    pub fn check(&self, ip: IpAddr, account: &str) -> Result<(), Duration> {
        let now = self.clock.now();
        let state = self.lock();
        let wait = [ip_key(ip), account_key(account)]
            .iter()
            .filter_map(|key| state.get(key)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, ip: IpAddr, account: &str) {
        let now = self.clock.now();
        let mut state = self.lock();
        if state.len() >= SWEEP_AT {
            let window = self.window;
            state.retain(|_, f| f.is_live(now, window));
        }
        for key in [ip_key(ip), account_key(account)] {
            let failures = state.entry(key).or_default();
            failures.prune(now, self.window);
            failures.times.push_back(now);
            if failures.times.len() > self.max_failures + EXTRA_FAILURES_KEPT {
                failures.times.pop_front();
            }
            if let Some(extra) = failures.times.len().checked_sub(self.max_failures) {
                // The max_failures-th failure locks for `base`; each one after doubles it.
                let factor = 1u32
                    .checked_shl(u32::try_from(extra).unwrap_or(u32::MAX))
                    .unwrap_or(u32::MAX);
                failures.locked_until = Some(now + self.base.saturating_mul(factor).min(self.max));
            }
        }
    }

    /// A successful login forgets the account's failures. The address keeps its
    /// count: one valid login must not reset an attacker's tally for guessing others.
    pub fn record_success(&self, account: &str) {
        self.lock().remove(&account_key(account));
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Failures>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().len()
    }
}

impl Failures {
    fn prune(&mut self, now: Instant, window: Duration) {
        while self
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.times.pop_front();
        }
    }

    fn is_live(&self, now: Instant, window: Duration) -> bool {
        self.locked_until.is_some_and(|t| t > now)
            || self
                .times
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
    }
}

/// IPv6 clients usually hold a whole /64, so one counts per /64; IPv4-mapped
/// addresses count as the IPv4 address they are.
fn ip_key(ip: IpAddr) -> Key {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            Key::Ip(IpAddr::V6(Ipv6Addr::from(prefix)))
        }
        v4 => Key::Ip(v4),
    }
}

/// User names are compared case-insensitively, as the store compares addresses.
fn account_key(account: &str) -> Key {
    Key::Account(account.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    fn limiter(clock: &Arc<ManualClock>) -> LoginLimiter {
        let clock: Arc<dyn Clock> = clock.clone();
        LoginLimiter::new(&AuthConfig::default(), clock)
    }

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
    const OTHER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    const SECS: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn lockout_starts_after_max_failures_and_doubles() {
        let clock = Arc::new(ManualClock::default());
        // A long window, so the doubling is not cut short by failures expiring.
        let config = AuthConfig {
            failure_window_secs: 3600,
            ..AuthConfig::default()
        };
        let l = LoginLimiter::new(&config, clock.clone());
        for _ in 0..4 {
            l.record_failure(IP, "a@example.org");
            assert_eq!(l.check(IP, "a@example.org"), Ok(()));
        }
        l.record_failure(IP, "a@example.org");
        assert_eq!(l.check(IP, "a@example.org"), Err(SECS(2)));
        // Both keys are locked: another account from this IP, this account elsewhere.
        assert_eq!(l.check(IP, "b@example.org"), Err(SECS(2)));
        assert_eq!(l.check(OTHER_IP, "A@Example.org"), Err(SECS(2)));
        assert_eq!(l.check(OTHER_IP, "b@example.org"), Ok(()));

        clock.advance(SECS(1));
        assert_eq!(l.check(IP, "a@example.org"), Err(SECS(1)));
        clock.advance(SECS(1));
        assert_eq!(l.check(IP, "a@example.org"), Ok(()));
        for expected in [4, 8, 16, 32, 64, 128, 256, 300, 300] {
            l.record_failure(IP, "a@example.org");
            assert_eq!(l.check(IP, "a@example.org"), Err(SECS(expected)));
            clock.advance(SECS(expected));
        }
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let clock = Arc::new(ManualClock::default());
        let l = limiter(&clock);
        for _ in 0..4 {
            l.record_failure(IP, "a@example.org");
            clock.advance(SECS(100));
        }
        // Only the last three are within 300 s, so the fifth does not lock.
        l.record_failure(IP, "a@example.org");
        assert_eq!(l.check(IP, "a@example.org"), Ok(()));
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let clock = Arc::new(ManualClock::default());
        let l = limiter(&clock);
        for _ in 0..4 {
            l.record_failure(IP, "a@example.org");
        }
        l.record_success("a@example.org");
        l.record_failure(OTHER_IP, "a@example.org");
        assert_eq!(l.check(OTHER_IP, "a@example.org"), Ok(()));
        // IP has 4 failures still; one more for any account locks it.
        l.record_failure(IP, "c@example.org");
        assert_eq!(l.check(IP, "d@example.org"), Err(SECS(2)));
    }

    #[test]
    fn ipv6_counts_per_slash_64() {
        let clock = Arc::new(ManualClock::default());
        let l = limiter(&clock);
        for i in 0..5u16 {
            let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i));
            l.record_failure(ip, &format!("u{i}@example.org"));
        }
        let same_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 9, 9, 9, 9));
        let other_64 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 2, 0, 0, 0, 1));
        assert_eq!(l.check(same_64, "x@example.org"), Err(SECS(2)));
        assert_eq!(l.check(other_64, "x@example.org"), Ok(()));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 7).to_ipv6_mapped());
        for _ in 0..5 {
            l.record_failure(mapped, "y@example.org");
        }
        assert_eq!(l.check(IP, "z@example.org"), Err(SECS(2)));
    }

    #[test]
    fn stale_entries_are_swept() {
        let clock = Arc::new(ManualClock::default());
        let l = limiter(&clock);
        for i in 0..SWEEP_AT {
            l.record_failure(IP, &format!("user{i}@example.org"));
        }
        assert_eq!(l.tracked(), SWEEP_AT + 1);
        clock.advance(SECS(3600));
        l.record_failure(OTHER_IP, "new@example.org");
        assert_eq!(l.tracked(), 2);
    }
}
