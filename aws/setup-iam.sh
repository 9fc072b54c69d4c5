#!/usr/bin/env bash
# Once per AWS account: the two instance profiles cluster.yaml names, with least privilege.
#
#   aws/setup-iam.sh YOUR-BUCKET        # the bucket the studies write to (--storage-path s3://YOUR-BUCKET/...)
#
# gan-study-head   runs the driver and the autoscaler: AWS's AmazonEC2FullAccess (what Ray's own default head role
#                  has: launch, tag and stop the workers), plus aws/head-policy.json: hand the workers their role
#                  (iam:PassRole on gan-study-worker only), read the image's public SSM parameter (the ImageId's
#                  resolve:ssm:), and read and write the results bucket (the driver writes the report there).
# gan-study-worker runs the trials: aws/worker-policy.json, the results bucket and nothing else.
# Safe to run again: what exists already is left as it is, the bucket policies are written anew.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ] || [[ "$1" == s3://* ]] || [[ "$1" == */* ]]; then
    echo "usage: aws/setup-iam.sh BUCKET   (the bucket's name only, e.g. my-gan-results: not s3://..., no /)" >&2
    exit 2
fi
bucket="$1"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for name in head worker; do
    sed "s/YOUR-BUCKET/${bucket}/g" "$here/${name}-policy.json" > "$work/${name}-policy.json"
done

make_profile() {  # role and instance profile of one name, trusted by EC2
    local name="$1"
    if ! aws iam get-role --role-name "$name" >/dev/null 2>&1; then
        aws iam create-role --role-name "$name" --assume-role-policy-document "file://$here/ec2-trust.json" >/dev/null
    fi
    if ! aws iam get-instance-profile --instance-profile-name "$name" >/dev/null 2>&1; then
        aws iam create-instance-profile --instance-profile-name "$name" >/dev/null
        aws iam add-role-to-instance-profile --instance-profile-name "$name" --role-name "$name"
    fi
}

make_profile gan-study-head
aws iam attach-role-policy --role-name gan-study-head --policy-arn arn:aws:iam::aws:policy/AmazonEC2FullAccess
aws iam put-role-policy --role-name gan-study-head --policy-name gan-study-head \
    --policy-document "file://$work/head-policy.json"

make_profile gan-study-worker
aws iam put-role-policy --role-name gan-study-worker --policy-name gan-study-results \
    --policy-document "file://$work/worker-policy.json"

echo "instance profiles gan-study-head and gan-study-worker are ready for s3://${bucket}"
