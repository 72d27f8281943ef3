#!/bin/sh
# LocalStack "ready" hook: the bucket (versioned, 90-day lifecycle, encrypted) and the queue with its dead-letter queue.
set -eu
REGION="${AWS_DEFAULT_REGION:-eu-west-2}"
BUCKET=timetable-uploads
awslocal s3api create-bucket --bucket "$BUCKET" --create-bucket-configuration "LocationConstraint=$REGION"
awslocal s3api put-bucket-versioning --bucket "$BUCKET" --versioning-configuration Status=Enabled
awslocal s3api put-bucket-encryption --bucket "$BUCKET" \
  --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
awslocal s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" --lifecycle-configuration '{
  "Rules": [
    {"ID": "expire-after-90-days", "Status": "Enabled", "Filter": {"Prefix": ""},
     "Expiration": {"Days": 90}, "NoncurrentVersionExpiration": {"NoncurrentDays": 90}}
  ]}'
DLQ_URL=$(awslocal sqs create-queue --queue-name timetable-uploads-dlq \
  --attributes MessageRetentionPeriod=1209600 --query QueueUrl --output text)
DLQ_ARN=$(awslocal sqs get-queue-attributes --queue-url "$DLQ_URL" --attribute-names QueueArn --query Attributes.QueueArn --output text)
awslocal sqs create-queue --queue-name timetable-uploads --attributes "{
  \"VisibilityTimeout\": \"300\",
  \"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\":\\\"$DLQ_ARN\\\",\\\"maxReceiveCount\\\":\\\"5\\\"}\"
}"
echo "timetable: bucket $BUCKET and queues ready"
