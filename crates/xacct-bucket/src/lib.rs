//! A customer bucket's creation and configuration, written once: the Lambda
//! (`service::configure`, `service::create`) and the verifier's canary make
//! the same calls, in the order of [`contract::BUCKET_STEPS`], so the canary
//! proves exactly what the runtime does (`ExpectedBucketOwner` included: a
//! name someone else owns is never configured).

use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::create_bucket::{CreateBucketError, CreateBucketOutput};
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketNamespace, CreateBucketConfiguration, ObjectOwnership,
    OwnershipControls, OwnershipControlsRule, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use xacct_contract as contract;
use xacct_contract::BucketStep;

/// A bucket being made: its name, the account that must own it, its region.
#[derive(Debug, Clone, Copy)]
pub struct Bucket<'a> {
    pub name: &'a str,
    pub owner: &'a str,
    pub region: &'a str,
}

/// A configuration step that failed: the step, and AWS's answer in full.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    pub step: BucketStep,
    pub message: String,
}

impl StepError {
    fn new<E: std::error::Error + 'static>(step: BucketStep, e: E) -> Self {
        StepError {
            step,
            message: DisplayErrorContext(e).to_string(),
        }
    }
}

/// Tag values allow letters, digits, whitespace and `+ - = . _ : / @`; anything
/// else becomes `_`, and the value is cut at 256 characters.
pub fn tag_value(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

/// A bucket's tags: `environment`, `customer`, `managed-by`.
pub fn tags(environment: &str, customer: &str) -> Vec<Tag> {
    [
        (contract::TAG_ENVIRONMENT, environment),
        (contract::TAG_CUSTOMER, customer),
        (contract::TAG_MANAGED_BY, contract::MANAGED_BY_VALUE),
    ]
    .into_iter()
    // Key and value are both set: the builder cannot fail.
    .filter_map(|(k, v)| Tag::builder().key(k).value(tag_value(v)).build().ok())
    .collect()
}

/// `CreateBucket` in `b.region`, with `tags` in the request when given (the
/// first step, action `s3:TagResource`), in the account regional namespace
/// when the name is a namespaced one.
pub async fn create(
    s3: &aws_sdk_s3::Client,
    b: Bucket<'_>,
    tags: Option<&[Tag]>,
) -> Result<CreateBucketOutput, SdkError<CreateBucketError>> {
    let mut create = s3.create_bucket().bucket(b.name);
    let mut conf = CreateBucketConfiguration::builder();
    if b.region != "us-east-1" {
        conf = conf.location_constraint(BucketLocationConstraint::from(b.region));
    }
    if let Some(tags) = tags {
        conf = conf.set_tags(Some(tags.to_vec()));
    }
    if b.region != "us-east-1" || tags.is_some() {
        create = create.create_bucket_configuration(conf.build());
    }
    if contract::is_namespaced_bucket(b.name, b.owner, b.region) {
        create = create.bucket_namespace(BucketNamespace::AccountRegional);
    }
    create.send().await
}

/// One configuration step after `CreateBucket` ([`BucketStep::Tags`] is the
/// `PutBucketTagging` fallback), on a bucket `b.owner` must own. `readers`:
/// the principals of [`contract::customer_bucket_policy`].
pub async fn put(
    s3: &aws_sdk_s3::Client,
    b: Bucket<'_>,
    step: BucketStep,
    readers: &[String],
    tags: &[Tag],
) -> Result<(), StepError> {
    let err = |e| StepError::new(step, e);
    match step {
        BucketStep::OwnershipControls => {
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                .build()
                .map_err(err)?;
            let controls = OwnershipControls::builder()
                .rules(rule)
                .build()
                .map_err(err)?;
            s3.put_bucket_ownership_controls()
                .bucket(b.name)
                .expected_bucket_owner(b.owner)
                .ownership_controls(controls)
                .send()
                .await
                .map_err(|e| StepError::new(step, e))?;
        }
        BucketStep::Encryption => {
            let sse = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(ServerSideEncryption::Aes256)
                .build()
                .map_err(err)?;
            let conf = ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(sse)
                        .build(),
                )
                .build()
                .map_err(err)?;
            s3.put_bucket_encryption()
                .bucket(b.name)
                .expected_bucket_owner(b.owner)
                .server_side_encryption_configuration(conf)
                .send()
                .await
                .map_err(|e| StepError::new(step, e))?;
        }
        BucketStep::Policy => {
            s3.put_bucket_policy()
                .bucket(b.name)
                .expected_bucket_owner(b.owner)
                .policy(contract::customer_bucket_policy(b.name, readers).to_string())
                .send()
                .await
                .map_err(|e| StepError::new(step, e))?;
        }
        BucketStep::Tags => {
            let tagging = Tagging::builder()
                .set_tag_set(Some(tags.to_vec()))
                .build()
                .map_err(err)?;
            s3.put_bucket_tagging()
                .bucket(b.name)
                .expected_bucket_owner(b.owner)
                .tagging(tagging)
                .send()
                .await
                .map_err(|e| StepError::new(step, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_values_keep_what_s3_allows_and_replace_the_rest() {
        assert_eq!(tag_value("acme co+1=2._:/@"), "acme co+1=2._:/@");
        assert_eq!(tag_value("a&b*c"), "a_b_c");
        assert_eq!(tag_value(&"x".repeat(300)).len(), 256);
    }

    #[test]
    fn every_bucket_carries_the_three_tags() {
        let t = tags("dev", "acme&co");
        let kv: Vec<(&str, &str)> = t.iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(
            kv,
            [
                (contract::TAG_ENVIRONMENT, "dev"),
                (contract::TAG_CUSTOMER, "acme_co"),
                (contract::TAG_MANAGED_BY, contract::MANAGED_BY_VALUE),
            ]
        );
    }
}
