#!/usr/bin/env bash
# MSK IAM tokens from lc_msk_iam_token (build/lc-msk-token) against AWS's Python signer
# (aws-msk-iam-sasl-signer-python, pinned, in a cached venv: signer-venv.sh) for the same
# random credentials, regions, user agents and frozen signing times: every token must be
# byte-identical, and so must the expiry librdkafka is given.
#   tests/aws/msk_signer_diff.sh [BUILD]      N=3000 SEED=<random> to change the run
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-${LC_BUILD:-build}}
N=${N:-3000}
SEED=${SEED:-$RANDOM$RANDOM}
venv="$(tests/aws/signer-venv.sh)"
py="$venv/bin/python"
make -s BUILD="$BUILD" SAN=$([ "$BUILD" = build-san ] && echo 1 || echo 0) "$BUILD/lc-msk-token" >/dev/null
T=$(mktemp -d /tmp/lc-msk-signer.XXXXXX)
trap 'rm -rf "$T"' EXIT
ua="$("$py" tests/aws/msk_signer_tokens.py --user-agent)"
echo "signer: $("$venv/bin/pip" show aws-msk-iam-sasl-signer-python 2>/dev/null | sed -n 's/^Version: /aws-msk-iam-sasl-signer-python /p'), botocore $("$py" -c 'import botocore; print(botocore.__version__)'), user agent $ua; seed $SEED"
"$py" tests/aws/msk_signer_diff.py gen "$N" "$SEED" "$ua" >"$T/cases.jsonl"
"$BUILD/lc-msk-token" <"$T/cases.jsonl" >"$T/ours.jsonl"
"$py" tests/aws/msk_signer_tokens.py <"$T/cases.jsonl" >"$T/theirs.jsonl"
if "$py" tests/aws/msk_signer_diff.py compare "$T/cases.jsonl" "$T/ours.jsonl" "$T/theirs.jsonl"; then
    echo "result: PASS: $N tokens identical to AWS's signer (seed $SEED)"
else
    echo "result: FAIL: tokens differ from AWS's signer (seed $SEED)"
    exit 1
fi
