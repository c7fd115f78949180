#!/usr/bin/env bash
# Install (with apt-get) the Debian packages needed to build, run and test
# logclassify. Does nothing when everything is installed already.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

PACKAGES=(
    # build
    build-essential pkg-config clang libclang-rt-14-dev
    librdkafka-dev libjansson-dev libyaml-dev default-libmysqlclient-dev
    libmicrohttpd-dev libsystemd-dev libcmocka-dev libjemalloc-dev
    # MSK IAM: HTTP for the AWS credential sources, SHA-256/HMAC for SigV4
    libcurl4-openssl-dev libssl-dev
    # local services and tests
    mariadb-server mariadb-client kcat openjdk-17-jre-headless maven
    openssl python3 curl
    # make check: the instruction-count guard (bench/instructions.sh)
    valgrind
    # MSK IAM tests: javac for the broker's token validator, a venv for AWS's Python signer
    openjdk-17-jdk-headless python3-venv
    # validating the deployment files: docker-compose config, systemd-analyze verify
    docker-compose systemd
)

case "${1:-}" in
    -h | --help)
        cat <<EOF
Usage: $LC_PROG [--check | --list]
  (no option)  install whatever is missing (apt-get update first; needs root or sudo)
  --check      only report missing packages; exit 1 when some are missing
  --list       print the package list
EOF
        exit 0
        ;;
    --list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
    --check | "") ;;
    *) die "unknown option: $1 (see --help)" ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
    pkg_installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
    say "all ${#PACKAGES[@]} packages installed"
    exit 0
fi
if [ "${1:-}" = --check ]; then
    say "missing: ${missing[*]}"
    exit 1
fi
ensure_pkgs "${missing[@]}"
say "installed: ${missing[*]}"
