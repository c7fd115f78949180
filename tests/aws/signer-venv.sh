#!/usr/bin/env bash
# Prints the path of a Python virtual environment holding AWS's MSK IAM signer
# (aws-msk-iam-sasl-signer-python, pinned in signer-requirements.txt), creating it when
# missing. Test-only; cached outside the repository:
#   ${LC_CACHE:-~/.cache/logclassify}/venv-msk-signer-<hash of the requirements>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/signer-requirements.txt"
cache="${LC_CACHE:-${HOME:-/root}/.cache/logclassify}"
hash="$(sha256sum "$req" | cut -c1-12)"
venv="$cache/venv-msk-signer-$hash"
if [ ! -f "$venv/.complete" ]; then
    echo "signer-venv: creating $venv" >&2
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
    "$venv/bin/python" -c 'import aws_msk_iam_sasl_signer' >&2
    touch "$venv/.complete"
fi
echo "$venv"
