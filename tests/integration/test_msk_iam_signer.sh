#!/usr/bin/env bash
# MSK IAM tokens byte-identical to AWS's own Python signer (aws-msk-iam-sasl-signer-python,
# pinned, in a cached test-only venv) for the same random credentials, regions, user agents
# and frozen signing times: tests/aws/msk_signer_diff.sh. Needs no service.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-3000} tests/aws/msk_signer_diff.sh "${LC_BUILD:-build}"
