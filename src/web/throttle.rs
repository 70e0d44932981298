//! Sign-in throttling that protects accounts without locking their owners out.
//!
//! Two counts of failed attempts within [`FAILURE_WINDOW_MINUTES`]:
//! - per **client address** (the socket's, or the one a trusted proxy forwarded): past
//!   [`ADDRESS_LIMIT`] failures the address waits for the window to pass. This is what stops
//!   guessing across many references or accounts from one place.
//! - per **account** (a staff email, a complaint reference): the first [`FREE_FAILURES`] cost
//!   nothing; after that each attempt must wait a delay that doubles with every failure (2 s,
//!   4 s, 8 s ... at most [`MAX_DELAY_SECS`]) after the last one. Someone guessing from many
//!   addresses gets a handful of tries an hour, while the real person, after a few slips, waits
//!   seconds or minutes, never a fixed lock-out that anyone could trigger on purpose.
//!
//! Attempts refused by the throttle are not counted, so waiting always ends. A success clears
//! the account's count.

use jiff::{SignedDuration, Timestamp};

use crate::store::{Store, StoreError};

pub use crate::store::FAILURE_WINDOW_MINUTES;

/// Failures from one address, in the window, before it must wait for the window to pass.
pub const ADDRESS_LIMIT: i64 = 20;
/// Failures on one account before delays begin.
pub const FREE_FAILURES: i64 = 4;
/// The longest delay between attempts on one account.
pub const MAX_DELAY_SECS: i64 = 300;

/// Whether an attempt may go ahead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Go,
    /// Too many failures from this address: wait for the window.
    AddressPaused,
    /// The account's delay has not passed: wait this long.
    AccountWait(SignedDuration),
}

/// The delay an account's failures call for after its last one.
pub fn account_delay(failures: i64) -> SignedDuration {
    if failures < FREE_FAILURES {
        return SignedDuration::ZERO;
    }
    let doublings = (failures - FREE_FAILURES).min(16) as u32;
    SignedDuration::from_secs((2i64 << doublings).min(MAX_DELAY_SECS))
}

/// The verdict from the counts: failures from the address, the account's failures and when
/// the last of them was.
pub fn verdict(
    address_failures: i64,
    account_failures: i64,
    last_account_failure: Option<Timestamp>,
    now: Timestamp,
) -> Verdict {
    if address_failures >= ADDRESS_LIMIT {
        return Verdict::AddressPaused;
    }
    let delay = account_delay(account_failures);
    match last_account_failure {
        Some(last) if delay > SignedDuration::ZERO && last + delay > now => {
            Verdict::AccountWait(last + delay - now)
        }
        _ => Verdict::Go,
    }
}

/// Seconds or minutes, in words: "20 seconds", "5 minutes".
pub fn wait_in_words(wait: SignedDuration) -> String {
    let seconds = wait.as_secs().max(1) + i64::from(wait.subsec_nanos() > 0);
    if seconds < 90 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", (seconds + 59) / 60)
    }
}

/// The throttle for one kind of sign-in (`area`: "staff", "customer"), keyed by an account and
/// the client's address.
pub struct Throttle<'a> {
    pub store: &'a Store,
    pub area: &'static str,
    pub account: String,
    pub address: Option<std::net::IpAddr>,
}

impl Throttle<'_> {
    fn account_key(&self) -> String {
        format!("{}-account:{}", self.area, self.account)
    }

    fn address_key(&self) -> Option<String> {
        self.address.map(|ip| format!("{}-address:{ip}", self.area))
    }

    /// Whether an attempt may go ahead now.
    pub async fn check(&self, now: Timestamp) -> Result<Verdict, StoreError> {
        let address_failures = match self.address_key() {
            Some(key) => self.store.failures(&key, now).await?.0,
            None => 0,
        };
        let (account_failures, last) = self.store.failures(&self.account_key(), now).await?;
        Ok(verdict(address_failures, account_failures, last, now))
    }

    /// Counts a failed attempt against the account and the address.
    pub async fn failed(&self, now: Timestamp) -> Result<(), StoreError> {
        let mut keys = vec![self.account_key()];
        keys.extend(self.address_key());
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        self.store.record_failure(&refs, now).await
    }

    /// A success: the account's earlier failures no longer count (the address's still do).
    pub async fn succeeded(&self) -> Result<(), StoreError> {
        self.store.clear_failures(&self.account_key()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("instant")
    }

    #[test]
    fn delays_begin_after_the_free_failures_and_double_to_a_ceiling() {
        assert_eq!(account_delay(0), SignedDuration::ZERO);
        assert_eq!(account_delay(FREE_FAILURES - 1), SignedDuration::ZERO);
        assert_eq!(account_delay(FREE_FAILURES), SignedDuration::from_secs(2));
        assert_eq!(
            account_delay(FREE_FAILURES + 1),
            SignedDuration::from_secs(4)
        );
        assert_eq!(
            account_delay(FREE_FAILURES + 2),
            SignedDuration::from_secs(8)
        );
        assert_eq!(
            account_delay(1_000_000),
            SignedDuration::from_secs(MAX_DELAY_SECS)
        );
    }

    #[test]
    fn an_account_waits_only_until_its_delay_has_passed() {
        let last = at("2026-03-02T09:00:00Z");
        let failures = FREE_FAILURES + 3; // 16 s
        assert_eq!(
            verdict(0, failures, Some(last), at("2026-03-02T09:00:10Z")),
            Verdict::AccountWait(SignedDuration::from_secs(6))
        );
        assert_eq!(
            verdict(0, failures, Some(last), at("2026-03-02T09:00:16Z")),
            Verdict::Go
        );
        assert_eq!(verdict(0, 2, Some(last), last), Verdict::Go);
    }

    #[test]
    fn an_address_with_many_failures_pauses_whatever_the_account() {
        let now = at("2026-03-02T09:00:00Z");
        assert_eq!(verdict(ADDRESS_LIMIT, 0, None, now), Verdict::AddressPaused);
        assert_eq!(verdict(ADDRESS_LIMIT - 1, 0, None, now), Verdict::Go);
    }

    #[test]
    fn waits_read_in_words() {
        assert_eq!(
            wait_in_words(SignedDuration::from_millis(1500)),
            "2 seconds"
        );
        assert_eq!(wait_in_words(SignedDuration::from_secs(64)), "64 seconds");
        assert_eq!(wait_in_words(SignedDuration::from_secs(300)), "5 minutes");
    }
}
