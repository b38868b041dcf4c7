# moto's server with behaviours of real S3 that moto 5.2.1 lacks, so the
# tests see what S3 does (xacct_testkit::moto starts every server through it):
#
# 1. Tags sent with CreateBucket (CreateBucketConfiguration.Tags, since
#    November 2025) are stored on the new bucket; moto drops them.
#    XACCT_MOTO_REFUSE_CREATE_TAGS=1 makes CreateBucket refuse them instead
#    (403 AccessDenied naming s3:TagResource), as S3 does for a caller without
#    that action: the fault the runtime's fallback is tested against.
# 2. Under IAM enforcement, the request's x-amz-bucket-namespace header is the
#    value of the condition key s3:x-amz-bucket-namespace; moto evaluates no
#    condition key of an identity policy (a conditioned statement never matches).
import os
import sys
import threading

import xmltodict
from moto.iam import access_control as ac
from moto.s3 import responses as s3r
from moto.s3.exceptions import S3ClientError

_put = s3r.S3Response._bucket_response_put


def _create_tags(body):
    try:
        conf = xmltodict.parse(body).get("CreateBucketConfiguration") or {}
    except Exception:
        return None
    tags = (conf.get("Tags") or {}).get("Tag")
    if tags is None:
        return None
    return tags if isinstance(tags, list) else [tags]


class _Refused(S3ClientError):
    code = 403

    def __init__(self, name):
        super().__init__(
            "AccessDenied",
            f"not authorized to perform: s3:TagResource on resource: arn:aws:s3:::{name} "
            "(tags at creation refused by XACCT_MOTO_REFUSE_CREATE_TAGS)",
        )


def _bucket_response_put(self, request, bucket_name, querystring):
    tags = None if querystring or not self.body else _create_tags(self.body)
    if tags is not None and os.environ.get("XACCT_MOTO_REFUSE_CREATE_TAGS"):
        raise _Refused(bucket_name)
    existed = tags is not None and bucket_name in self.backend.buckets
    out = _put(self, request, bucket_name, querystring)
    if tags is not None and not existed:
        self.backend.put_bucket_tagging(
            bucket_name, {t["Key"]: t.get("Value") or "" for t in tags}
        )
    return out


s3r.S3Response._bucket_response_put = _bucket_response_put

# 3. Under IAM enforcement, moto authorises a bucket's ownership controls,
#    encryption and Block Public Access requests as s3:CreateBucket (their
#    query keys are missing from its map); S3 authorises them with their own
#    actions (DeletePublicAccessBlock with s3:PutBucketPublicAccessBlock).
_bucket = s3r.ACTION_MAP["BUCKET"]
_bucket["PUT"].update(
    ownershipControls="PutBucketOwnershipControls",
    encryption="PutEncryptionConfiguration",
    publicAccessBlock="PutBucketPublicAccessBlock",
)
_bucket["GET"].update(
    ownershipControls="GetBucketOwnershipControls",
    encryption="GetEncryptionConfiguration",
    publicAccessBlock="GetBucketPublicAccessBlock",
)
_bucket["DELETE"].update(
    ownershipControls="PutBucketOwnershipControls",
    encryption="PutEncryptionConfiguration",
    publicAccessBlock="PutBucketPublicAccessBlock",
)

_ctx = threading.local()
_check = ac.IAMRequestBase.check_action_permitted
_permitted = ac.IAMPolicy.is_action_permitted


def _check_action_permitted(self, resource):
    ns = {k.lower(): v for k, v in self._headers.items()}.get("x-amz-bucket-namespace")
    _ctx.values = {"s3:x-amz-bucket-namespace": ns} if ns else None
    try:
        return _check(self, resource)
    finally:
        _ctx.values = None


def _is_action_permitted(self, action, resource="*", principal=None, incoming=None):
    if incoming is None:
        incoming = getattr(_ctx, "values", None)
    return _permitted(self, action, resource, principal, incoming)


ac.IAMRequestBase.check_action_permitted = _check_action_permitted
ac.IAMPolicy.is_action_permitted = _is_action_permitted

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
