//! Paginated listings.

use super::AwsError;

/// Every bucket name of the account the client's credentials belong to
/// (paginated `ListBuckets`: S3 allows 10,000 buckets per account by default).
pub async fn bucket_names(s3: &aws_sdk_s3::Client) -> Result<Vec<String>, AwsError> {
    Ok(buckets(s3).await?.into_iter().map(|(n, _)| n).collect())
}

/// Every bucket of the account with its creation time (epoch seconds, when S3
/// gives one), from the same paginated `ListBuckets`.
pub async fn buckets(s3: &aws_sdk_s3::Client) -> Result<Vec<(String, Option<i64>)>, AwsError> {
    let mut out = Vec::new();
    let mut pages = s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let p = page.map_err(|e| AwsError::sdk("s3:ListAllMyBuckets", "the account", &e))?;
        out.extend(p.buckets().iter().filter_map(|b| {
            b.name()
                .map(|n| (n.to_owned(), b.creation_date().map(|d| d.secs())))
        }));
    }
    Ok(out)
}
