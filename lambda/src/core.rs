//! The runtime's decisions, as pure functions of their inputs: which account
//! a new customer goes to, whether a bucket counts as listed, whether the
//! counts a container holds are fresh enough to reserve from, whether an
//! account crossed the warning threshold. `service` reaches AWS and the state
//! table; it asks these for every choice, and the time it decides with comes
//! from a [`Clock`], so the time-based paths are tested without sleeping.

use std::collections::HashMap;

/// The time the runtime decides with, in epoch milliseconds.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

/// The system clock (what a container uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        xacct_state::now_ms()
    }
}

/// The system clock moved by an offset that can be advanced (tests: "later"
/// or "earlier" without waiting).
#[derive(Debug, Default)]
pub struct OffsetClock(std::sync::atomic::AtomicI64);

impl OffsetClock {
    pub fn new(offset_ms: i64) -> Self {
        OffsetClock(std::sync::atomic::AtomicI64::new(offset_ms))
    }

    /// Moves the clock `ms` forward.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for OffsetClock {
    fn now_ms(&self) -> i64 {
        xacct_state::now_ms().saturating_add(self.0.load(std::sync::atomic::Ordering::SeqCst))
    }
}

/// How long a container reserves from the counts it read last before it reads
/// the counters again. Only the choice of account (most headroom) depends on
/// them; the limit is kept by the reservation's condition.
pub const COUNTS_MAX_AGE_MS: i64 = 10_000;

/// A bucket created at least this long before its account's counter was
/// listed is taken as counted by that listing.
pub const LISTING_MARGIN_MS: i64 = 2000;

/// Counts read at `read_at` are fresh at `now`: less than
/// [`COUNTS_MAX_AGE_MS`] old. A clock that went back (`now < read_at`) makes
/// them stale: in doubt the container reads again.
pub fn counts_fresh(read_at: Option<i64>, now: i64) -> bool {
    read_at.is_some_and(|t| (0..COUNTS_MAX_AGE_MS).contains(&now.saturating_sub(t)))
}

/// Whether a bucket created at `created_ms` was counted by the listing made at
/// `listed_at`. S3 reports creation times to the second and clocks differ a
/// little: only a bucket clearly older than the listing counts as listed; in
/// doubt it counts as new (one too many, never one too few).
pub fn counted_by_listing(created_ms: i64, listed_at: i64) -> bool {
    created_ms.saturating_add(LISTING_MARGIN_MS) < listed_at
}

/// The order in which a new customer's reservation tries the accounts: most
/// headroom (`max - count`) first, ties in the fleet's order; full accounts
/// and accounts without a count at the maximum are left out. Returns
/// `(index into accounts, count)`.
pub fn reservation_order(
    accounts: &[&str],
    counts: &HashMap<String, usize>,
    max: usize,
) -> Vec<(usize, usize)> {
    let mut order: Vec<(usize, usize)> = accounts
        .iter()
        .enumerate()
        .map(|(i, a)| (i, counts.get(*a).copied().unwrap_or(max)))
        .filter(|(_, count)| *count < max)
        .collect();
    // Stable: ties keep the fleet's order.
    order.sort_by_key(|(_, count)| *count);
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_fresh_for_ten_seconds_and_never_from_the_future() {
        assert!(!counts_fresh(None, 0));
        assert!(counts_fresh(Some(1_000), 1_000));
        assert!(counts_fresh(Some(1_000), 1_000 + COUNTS_MAX_AGE_MS - 1));
        assert!(!counts_fresh(Some(1_000), 1_000 + COUNTS_MAX_AGE_MS));
        assert!(!counts_fresh(Some(1_000), 999), "a clock that went back");
        assert!(!counts_fresh(Some(i64::MIN), i64::MAX));
    }

    #[test]
    fn only_a_bucket_clearly_older_than_the_listing_counts_as_listed() {
        let listed = 100_000;
        assert!(counted_by_listing(listed - LISTING_MARGIN_MS - 1, listed));
        assert!(!counted_by_listing(listed - LISTING_MARGIN_MS, listed));
        assert!(!counted_by_listing(listed, listed));
        assert!(!counted_by_listing(i64::MAX, listed));
    }

    #[test]
    fn most_headroom_first_ties_in_fleet_order_full_accounts_left_out() {
        let accounts = ["a", "b", "c", "d", "e"];
        let counts: HashMap<String, usize> = [("a", 5), ("b", 2), ("c", 10), ("d", 2)]
            .into_iter()
            .map(|(a, c)| (a.to_owned(), c))
            .collect();
        // e has no count: treated as full until counted.
        assert_eq!(
            reservation_order(&accounts, &counts, 10),
            vec![(1, 2), (3, 2), (0, 5)]
        );
        assert!(reservation_order(&accounts, &counts, 0).is_empty());
        assert!(reservation_order(&[], &counts, 10).is_empty());
    }
}
