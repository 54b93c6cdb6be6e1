//! Per-client rate limits on the doors that can be knocked on without an account: signing in
//! and exchanging survey codes. Clients are told by their network address, which is held in
//! memory only, for the limit's window, and never stored or logged.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The limits of the whole service, shared by all workers.
pub struct RateLimits {
    login: DefaultKeyedRateLimiter<IpAddr>,
    code_exchange: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    /// Limits allowing `login` sign-in attempts and `code_exchange` code exchanges per minute
    /// per client, each with a burst of the same size.
    pub fn new(login: u32, code_exchange: u32) -> Self {
        Self {
            login: RateLimiter::keyed(per_minute(login)),
            code_exchange: RateLimiter::keyed(per_minute(code_exchange)),
            clock: DefaultClock::default(),
        }
    }

    fn check(&self, limiter: &DefaultKeyedRateLimiter<IpAddr>, client: IpAddr) -> Result<(), u64> {
        limiter.check_key(&client).map_err(|not_until| {
            let wait: Duration = not_until.wait_time_from(self.clock.now());
            wait.as_secs().max(1)
        })
    }

    /// `Err(seconds to wait)` when the client has tried to sign in too often.
    pub fn check_login(&self, client: IpAddr) -> Result<(), u64> {
        self.check(&self.login, client)
    }

    /// Forgets clients whose windows have passed (called now and then).
    pub fn forget_idle(&self) {
        self.login.retain_recent();
        self.code_exchange.retain_recent();
    }
}

/// The code-exchange limit bound to one client, for the GraphQL layer.
pub struct ClientCodeExchange {
    limits: Arc<RateLimits>,
    client: IpAddr,
}

impl ClientCodeExchange {
    /// The limit for `client`.
    pub fn new(limits: Arc<RateLimits>, client: IpAddr) -> Self {
        Self { limits, client }
    }
}

impl orb_graphql::collection::ClientLimits for ClientCodeExchange {
    fn check_code_exchange(&self) -> Result<(), u64> {
        self.limits.check(&self.limits.code_exchange, self.client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_past_its_limit_waits_while_others_go_on() {
        let limits = RateLimits::new(2, 1);
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        assert!(limits.check_login(a).is_ok() && limits.check_login(a).is_ok());
        assert!(limits.check_login(a).is_err(), "the third attempt in a minute waits");
        assert!(limits.check_login(b).is_ok(), "another client is not affected");
    }
}
