//! Capacity arithmetic (pure): how many storage accounts N customers at growth
//! G need, against the configured `max_buckets_per_account` and against the S3
//! bucket quota per account (seed 000's arithmetic).

use serde::Serialize;

/// The answer for one (customers, growth) question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub customers: u64,
    pub growth: f64,
    /// `ceil(customers x growth)`: one bucket per customer.
    pub buckets_needed: u64,
    pub max_buckets_per_account: u32,
    /// Accounts needed at `max_buckets_per_account` each.
    pub accounts_configured: u64,
    pub s3_bucket_quota: u32,
    /// Accounts needed if each account were filled up to the S3 quota.
    pub accounts_quota_bound: u64,
}

/// Why a question has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("growth must be a finite number >= 1.0 (got {0})")]
    Growth(String),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("customers x growth is too large to plan for")]
    Overflow,
}

/// Accounts needed for `customers` at `growth`, per account limit and quota.
pub fn plan(
    customers: u64,
    growth: f64,
    max_per_account: u32,
    quota: u32,
) -> Result<Plan, PlanError> {
    if !(growth.is_finite() && growth >= 1.0) {
        return Err(PlanError::Growth(growth.to_string()));
    }
    if max_per_account == 0 {
        return Err(PlanError::Zero("max_buckets_per_account"));
    }
    if quota == 0 {
        return Err(PlanError::Zero("s3_bucket_quota"));
    }
    let needed = (customers as f64 * growth).ceil();
    // f64 holds integers exactly up to 2^53; beyond that the answer is meaningless.
    if needed > 9_007_199_254_740_992.0 {
        return Err(PlanError::Overflow);
    }
    let buckets_needed = needed as u64;
    Ok(Plan {
        customers,
        growth,
        buckets_needed,
        max_buckets_per_account: max_per_account,
        accounts_configured: buckets_needed.div_ceil(u64::from(max_per_account)),
        s3_bucket_quota: quota,
        accounts_quota_bound: buckets_needed.div_ceil(u64::from(quota)),
    })
}

impl Plan {
    /// Human-readable lines, given how many accounts the spec lists.
    pub fn lines(&self, accounts_in_spec: usize) -> Vec<String> {
        let have = accounts_in_spec as u64;
        let mut out = vec![
            format!(
                "{} customers x {} growth = {} buckets",
                self.customers, self.growth, self.buckets_needed
            ),
            format!(
                "configured: {} bucket(s) per account => {} account(s) needed",
                self.max_buckets_per_account, self.accounts_configured
            ),
            format!(
                "quota-bound: S3 bucket quota {} per account => {} account(s) needed",
                self.s3_bucket_quota, self.accounts_quota_bound
            ),
        ];
        out.push(if have >= self.accounts_configured {
            format!("the spec lists {have} storage account(s): enough")
        } else {
            format!(
                "the spec lists {have} storage account(s): add {} more (xacct onboard)",
                self.accounts_configured - have
            )
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        // (customers, growth, max, quota) => (buckets, configured, quota-bound)
        let cases: &[(u64, f64, u32, u32, u64, u64, u64)] = &[
            // Seed 000: 5,000 customers, 1,000 per account, 2x growth.
            (5_000, 2.0, 1_000, 10_000, 10_000, 10, 1),
            // Seed 000 with the pre-Nov-2024 quota of 100.
            (5_000, 2.0, 1_000, 100, 10_000, 10, 100),
            (5_000, 1.0, 1_000, 10_000, 5_000, 5, 1),
            (5_001, 1.0, 1_000, 10_000, 5_001, 6, 1),
            (0, 1.0, 1_000, 10_000, 0, 0, 0),
            (1, 1.0, 1_000, 10_000, 1, 1, 1),
            (50, 2.0, 1_000, 10_000, 100, 1, 1),
            (333, 1.5, 100, 10_000, 500, 5, 1),
            (1_000, 1.001, 1_000, 10_000, 1_001, 2, 1),
            (100_000, 3.0, 10_000, 10_000, 300_000, 30, 30),
        ];
        for &(n, g, max, quota, buckets, conf, bound) in cases {
            let p = plan(n, g, max, quota).unwrap();
            assert_eq!(
                (
                    p.buckets_needed,
                    p.accounts_configured,
                    p.accounts_quota_bound
                ),
                (buckets, conf, bound),
                "{n} customers x {g}, max {max}, quota {quota}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            plan(1, 0.5, 1000, 10_000),
            Err(PlanError::Growth(_))
        ));
        assert!(matches!(
            plan(1, f64::NAN, 1000, 10_000),
            Err(PlanError::Growth(_))
        ));
        assert!(matches!(
            plan(1, f64::INFINITY, 1000, 10_000),
            Err(PlanError::Growth(_))
        ));
        assert_eq!(
            plan(1, 1.0, 0, 10_000),
            Err(PlanError::Zero("max_buckets_per_account"))
        );
        assert_eq!(plan(1, 1.0, 1, 0), Err(PlanError::Zero("s3_bucket_quota")));
        assert_eq!(plan(u64::MAX, 2.0, 1, 1), Err(PlanError::Overflow));
    }

    #[test]
    fn lines_say_how_many_to_add() {
        let p = plan(5_000, 2.0, 1_000, 10_000).unwrap();
        let l = p.lines(3);
        assert_eq!(l[0], "5000 customers x 2 growth = 10000 buckets");
        assert!(l[1].ends_with("=> 10 account(s) needed"), "{l:?}");
        assert!(l[2].ends_with("=> 1 account(s) needed"), "{l:?}");
        assert_eq!(
            l[3],
            "the spec lists 3 storage account(s): add 7 more (xacct onboard)"
        );
        assert!(p.lines(10)[3].ends_with("enough"));
    }
}
