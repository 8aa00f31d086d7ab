#!/usr/bin/env bash
# The AWS CLI against localiam, three ways (README, "Examples"):
#   examples/aws_cli.sh [http://127.0.0.1:4593]
set -euo pipefail
ENDPOINT="${1:-http://127.0.0.1:4593}"
export AWS_PAGER=""
name="cli-$RANDOM$RANDOM"

# 1. --endpoint-url on each command.
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    aws --endpoint-url "$ENDPOINT" iam create-user --user-name "$name" >/dev/null
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    aws --endpoint-url "$ENDPOINT" sts get-caller-identity --query Arn --output text

# 2. A profile whose endpoint_url is localiam (AWS CLI v2, and v1 from 1.29).
config="$(mktemp)"
trap 'rm -f "$config"' EXIT
cat >"$config" <<INI
[profile localiam]
region = us-east-1
endpoint_url = $ENDPOINT
aws_access_key_id = test
aws_secret_access_key = test
INI
AWS_CONFIG_FILE="$config" AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    aws --profile localiam iam get-user --user-name "$name" --query User.UserName --output text

# 3. Per-service endpoint variables.
AWS_ENDPOINT_URL_IAM="$ENDPOINT" AWS_ENDPOINT_URL_STS="$ENDPOINT" \
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
    aws iam list-users --query "Users[?UserName=='$name'].UserName" --output text
