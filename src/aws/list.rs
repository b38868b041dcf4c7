//! Paginated listings.

use super::AwsError;

/// Every bucket name of the account the client's credentials belong to
/// (paginated `ListBuckets`: S3 allows 10,000 buckets per account by default).
pub async fn bucket_names(s3: &aws_sdk_s3::Client) -> Result<Vec<String>, AwsError> {
    let mut names = Vec::new();
    let mut pages = s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let p = page.map_err(|e| AwsError::sdk("s3:ListAllMyBuckets", "the account", &e))?;
        names.extend(
            p.buckets()
                .iter()
                .filter_map(|b| b.name().map(str::to_owned)),
        );
    }
    Ok(names)
}
