//! Per-client rate limits on the doors that can be knocked on without an account, and on the
//! one that checks a password behind an access token:
//!
//! - **Signing in**: every attempt counts, per client.
//! - **Survey and attendee codes**: only *failed* exchanges count (a code that does not parse
//!   or opens nothing), per client; a client past its budget waits before trying again. A
//!   successful exchange costs nothing, so a room of people on one venue Wi-Fi, each with their
//!   own code, is never throttled, while a guesser is stopped after a few misses. (Codes carry
//!   80 bits: the limit bounds load and noise, guessing is hopeless either way.)
//! - **Changing a password**: every attempt counts, per client (together with its sign-ins)
//!   and per account, so a stolen access token cannot test `currentPassword` quickly.
//!
//! Clients are told by their network address ([`client_key`]: IPv6 addresses by their /64,
//! which one subscriber usually holds whole), kept in memory only, for the limit's window, and
//! never stored or logged.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use orb_domain::ids::UserId;

/// The key a client's limits are kept under: an IPv4 address alone, an IPv6 address by its /64
/// (a subscriber is handed a whole /64 and can pick any address in it), an IPv4-mapped IPv6
/// address as the IPv4 address it is.
pub fn client_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
        v4 => v4,
    }
}

/// The limits of the whole service, shared by all workers.
pub struct RateLimits {
    login: DefaultKeyedRateLimiter<IpAddr>,
    password_change: DefaultKeyedRateLimiter<UserId>,
    failed_exchanges: FailureBudget<IpAddr>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    /// Limits allowing `login` sign-in (and password-change) attempts and `failed_exchanges`
    /// failed code exchanges per minute per client, each with a burst of the same size.
    pub fn new(login: u32, failed_exchanges: u32) -> Self {
        Self {
            login: RateLimiter::keyed(per_minute(login)),
            password_change: RateLimiter::keyed(per_minute(login)),
            failed_exchanges: FailureBudget::per_minute(failed_exchanges),
            clock: DefaultClock::default(),
        }
    }

    fn check<K: Hash + Eq + Clone>(&self, limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), u64> {
        limiter.check_key(key).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(self.clock.now());
            wait.as_secs().max(1)
        })
    }

    /// `Err(seconds to wait)` when the client has tried to sign in too often.
    pub fn check_login(&self, client: IpAddr) -> Result<(), u64> {
        self.check(&self.login, &client_key(client))
    }

    /// `Err(seconds to wait)` when `account`, or the client asking for it, has tried its
    /// password too often (a password change counts as a sign-in attempt of the client).
    pub fn check_password_attempt(&self, client: Option<IpAddr>, account: UserId) -> Result<(), u64> {
        self.check(&self.password_change, &account)?;
        match client {
            Some(client) => self.check_login(client),
            None => Ok(()),
        }
    }

    /// `Err(seconds to wait)` when the client has failed too many code exchanges lately.
    pub fn check_code_exchange(&self, client: IpAddr) -> Result<(), u64> {
        self.failed_exchanges.check(&client_key(client), Instant::now())
    }

    /// Counts a failed code exchange against the client.
    pub fn code_exchange_failed(&self, client: IpAddr) {
        self.failed_exchanges.record(client_key(client), Instant::now());
    }

    /// Forgets clients whose windows have passed (called now and then).
    pub fn forget_idle(&self) {
        self.login.retain_recent();
        self.password_change.retain_recent();
        self.failed_exchanges.forget_idle(Instant::now());
    }
}

/// A leaky bucket per key that only failures fill: checking costs nothing, each failure adds
/// one, and the bucket drains at the budget's rate. A key whose bucket is full waits.
struct FailureBudget<K> {
    /// Failures drained per second.
    rate: f64,
    /// Failures held before the key waits (the burst).
    capacity: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq> FailureBudget<K> {
    fn per_minute(n: u32) -> Self {
        let n = f64::from(n.max(1));
        Self { rate: n / 60.0, capacity: n, buckets: Mutex::new(HashMap::new()) }
    }

    fn level(&self, (level, at): (f64, Instant), now: Instant) -> f64 {
        (level - now.saturating_duration_since(at).as_secs_f64() * self.rate).max(0.0)
    }

    fn check(&self, key: &K, now: Instant) -> Result<(), u64> {
        let buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let level = buckets.get(key).map(|b| self.level(*b, now)).unwrap_or(0.0);
        if level + 1.0 <= self.capacity {
            Ok(())
        } else {
            // Until one failure has drained.
            Err(((level + 1.0 - self.capacity) / self.rate).ceil().max(1.0) as u64)
        }
    }

    fn record(&self, key: K, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let level = buckets.get(&key).map(|b| self.level(*b, now)).unwrap_or(0.0);
        buckets.insert(key, ((level + 1.0).min(self.capacity + 1.0), now));
    }

    fn forget_idle(&self, now: Instant) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        buckets.retain(|_, bucket| self.level(*bucket, now) > 0.0);
    }
}

/// The limits bound to one client, for the GraphQL layer.
pub struct ClientCodeExchange {
    limits: Arc<RateLimits>,
    client: IpAddr,
}

impl ClientCodeExchange {
    /// The limits for `client`.
    pub fn new(limits: Arc<RateLimits>, client: IpAddr) -> Self {
        Self { limits, client }
    }
}

impl orb_graphql::collection::ClientLimits for ClientCodeExchange {
    fn check_code_exchange(&self) -> Result<(), u64> {
        self.limits.check_code_exchange(self.client)
    }

    fn code_exchange_failed(&self) {
        self.limits.code_exchange_failed(self.client);
    }

    fn check_password_attempt(&self, account: UserId) -> Result<(), u64> {
        self.limits.check_password_attempt(Some(self.client), account)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_client_past_its_limit_waits_while_others_go_on() {
        let limits = RateLimits::new(2, 1);
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        assert!(limits.check_login(a).is_ok() && limits.check_login(a).is_ok());
        assert!(limits.check_login(a).is_err(), "the third attempt in a minute waits");
        assert!(limits.check_login(b).is_ok(), "another client is not affected");
    }

    #[test]
    fn only_failed_exchanges_use_up_the_budget_and_it_drains_with_time() {
        let budget = FailureBudget::per_minute(3);
        let start = Instant::now();
        let room = ip("192.0.2.1");
        for _ in 0..1000 {
            assert!(budget.check(&room, start).is_ok(), "checks alone (successes) cost nothing");
        }
        for _ in 0..3 {
            assert!(budget.check(&room, start).is_ok());
            budget.record(room, start);
        }
        let wait = budget.check(&room, start).expect_err("a fourth miss in a minute waits");
        assert_eq!(wait, 20, "until one miss has drained (3 a minute)");
        assert!(budget.check(&ip("192.0.2.2"), start).is_ok(), "another client is not affected");
        assert!(budget.check(&room, start + Duration::from_secs(20)).is_ok(), "one miss drained");
        budget.forget_idle(start + Duration::from_secs(61));
        assert!(budget.buckets.lock().map(|b| b.is_empty()).unwrap_or(false), "idle clients are forgotten");
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(client_key(ip("2001:db8:1:3::1")), client_key(ip("2001:db8:1:2::1")), "the next /64 is another");
        assert_eq!(client_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
        assert_eq!(client_key(ip("10.0.0.1")), ip("10.0.0.1"));
        let limits = RateLimits::new(2, 2);
        assert!(limits.check_login(ip("2001:db8::1")).is_ok() && limits.check_login(ip("2001:db8::2")).is_ok());
        assert!(limits.check_login(ip("2001:db8::3")).is_err(), "a new address in the same /64 does not help");
        assert!(limits.check_login(ip("2001:db8:0:1::1")).is_ok(), "another /64 is another client");
        limits.code_exchange_failed(ip("2001:db8::a"));
        limits.code_exchange_failed(ip("2001:db8::b"));
        assert!(limits.check_code_exchange(ip("2001:db8::c")).is_err(), "failed exchanges add up across the /64");
    }

    #[test]
    fn password_attempts_are_limited_per_account_and_count_as_the_clients_sign_ins() {
        let limits = RateLimits::new(2, 1);
        let account = UserId(uuid::Uuid::nil());
        let other = ip("10.0.0.9");
        assert!(limits.check_password_attempt(Some(ip("10.0.0.1")), account).is_ok());
        assert!(limits.check_password_attempt(Some(ip("10.0.0.2")), account).is_ok());
        assert!(
            limits.check_password_attempt(Some(ip("10.0.0.3")), account).is_err(),
            "per account, whatever the address"
        );
        assert!(limits.check_login(other).is_ok() && limits.check_login(other).is_ok());
        let second = UserId(uuid::Uuid::max());
        assert!(limits.check_password_attempt(Some(other), second).is_err(), "the client's sign-ins count too");
    }
}
