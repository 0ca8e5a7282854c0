//! Brute-force defence. Per account (in the tenant's `clinic.login_throttle`,
//! keyed by the username as typed, so unknown and real accounts behave alike)
//! and per client IP (in memory, per server process).
//!
//! Per account: from the 3rd consecutive failure every further attempt must wait
//! 1, 2, 4 … 60 s; an attempt made before the wait is over is refused *and*
//! counts; the 10th failure locks the account for 15 minutes (an admin can
//! unlock it). Per IP: from the 10th failure in 15 minutes the same growing
//! wait, and 100 failures block the address for 15 minutes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const ACCOUNT_FREE_FAILURES: i32 = 3;
pub const ACCOUNT_LOCK_FAILURES: i32 = 10;
pub const LOCK_MINUTES: i64 = 15;
const MAX_DELAY_SECS: i64 = 60;
const IP_FREE_FAILURES: u32 = 10;
const IP_BLOCK_FAILURES: u32 = 100;
const IP_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Seconds an account with `failures` consecutive failures must wait after its
/// last failure before the next attempt is considered.
pub fn account_delay_secs(failures: i32) -> i64 {
    if failures < ACCOUNT_FREE_FAILURES {
        0
    } else {
        let exp = u32::try_from(failures - ACCOUNT_FREE_FAILURES)
            .unwrap_or(0)
            .min(6);
        (1i64 << exp).min(MAX_DELAY_SECS)
    }
}

/// What the per-account state says about an attempt made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// Too early: wait this many seconds.
    Wait(i64),
    /// Locked: this many minutes left.
    Locked(i64),
}

pub fn refused_message(verdict: Verdict) -> String {
    match verdict {
        Verdict::Proceed => String::new(),
        Verdict::Wait(secs) => format!(
            "Too many failed sign-ins. Wait {secs} second{} and try again.",
            if secs == 1 { "" } else { "s" }
        ),
        Verdict::Locked(minutes) => format!(
            "Too many failed sign-ins: this account is locked for {minutes} more minute{}. \
             A clinic admin can unlock it sooner.",
            if minutes == 1 { "" } else { "s" }
        ),
    }
}

#[derive(Default)]
struct IpState {
    failures: u32,
    window_start: Option<Instant>,
    last_failure: Option<Instant>,
}

/// Per-IP failure counts (memory only; a restart forgets them, the per-account
/// rows in the database do not).
#[derive(Default)]
pub struct IpThrottle {
    state: Mutex<HashMap<IpAddr, IpState>>,
}

impl IpThrottle {
    pub fn check(&self, ip: Option<IpAddr>) -> Verdict {
        let Some(ip) = ip else {
            return Verdict::Proceed;
        };
        let mut map = self.state.lock().expect("ip throttle lock");
        let Some(s) = map.get_mut(&ip) else {
            return Verdict::Proceed;
        };
        if s.window_start.is_some_and(|t| t.elapsed() > IP_WINDOW) {
            *s = IpState::default();
            return Verdict::Proceed;
        }
        let since_last = s.last_failure.map_or(i64::MAX, |t| {
            i64::try_from(t.elapsed().as_secs()).unwrap_or(i64::MAX)
        });
        if s.failures >= IP_BLOCK_FAILURES {
            let left = (IP_WINDOW.as_secs() as i64 - since_last).max(60);
            return Verdict::Locked((left + 59) / 60);
        }
        if s.failures >= IP_FREE_FAILURES {
            let exp = (s.failures - IP_FREE_FAILURES).min(6);
            let delay = (1i64 << exp).min(MAX_DELAY_SECS);
            if since_last < delay {
                return Verdict::Wait(delay - since_last);
            }
        }
        Verdict::Proceed
    }

    pub fn failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        let mut map = self.state.lock().expect("ip throttle lock");
        if map.len() > 100_000 {
            map.retain(|_, s| s.window_start.is_some_and(|t| t.elapsed() <= IP_WINDOW));
        }
        let s = map.entry(ip).or_default();
        let now = Instant::now();
        if s.window_start.is_none_or(|t| t.elapsed() > IP_WINDOW) {
            *s = IpState {
                failures: 0,
                window_start: Some(now),
                last_failure: None,
            };
        }
        s.failures += 1;
        s.last_failure = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_delays_grow_and_cap() {
        assert_eq!(account_delay_secs(0), 0);
        assert_eq!(account_delay_secs(2), 0);
        assert_eq!(account_delay_secs(3), 1);
        assert_eq!(account_delay_secs(4), 2);
        assert_eq!(account_delay_secs(6), 8);
        assert_eq!(account_delay_secs(50), 60);
    }

    #[test]
    fn ip_throttle_waits_then_blocks() {
        let t = IpThrottle::default();
        let ip = Some("10.0.0.1".parse().unwrap());
        for _ in 0..IP_FREE_FAILURES {
            assert_eq!(t.check(ip), Verdict::Proceed);
            t.failed(ip);
        }
        assert!(matches!(t.check(ip), Verdict::Wait(_)));
        assert_eq!(t.check(Some("10.0.0.2".parse().unwrap())), Verdict::Proceed);
        for _ in IP_FREE_FAILURES..IP_BLOCK_FAILURES {
            t.failed(ip);
        }
        assert!(matches!(t.check(ip), Verdict::Locked(_)));
    }
}
