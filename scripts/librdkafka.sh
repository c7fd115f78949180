#!/usr/bin/env bash
# Fetch, check and build the pinned librdkafka (scripts/librdkafka.pin) as a static library,
# into $LC_CACHE/librdkafka-<version> (outside the repository, like the Kafka jars). The
# Makefile runs `build` when that folder has no rdkafka.mk yet; nothing happens when it has.
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"
# shellcheck source=scripts/librdkafka.pin
. "$LC_SCRIPTS_DIR/librdkafka.pin"

NPM_REGISTRY="${LC_NPM_REGISTRY:-https://registry.npmjs.org}"
TARBALL_NAME="${LIBRDKAFKA_NPM_PACKAGE##*/}-$LIBRDKAFKA_NPM_VERSION.tgz"
TARBALL_URL="$NPM_REGISTRY/$LIBRDKAFKA_NPM_PACKAGE/-/$TARBALL_NAME"
DOWNLOADS="$LC_CACHE/downloads"
TARBALL="$DOWNLOADS/$TARBALL_NAME"
PREFIX="$LC_CACHE/librdkafka-$LIBRDKAFKA_VERSION"
MK="$PREFIX/rdkafka.mk"
# Every optional feature is asked for by name, so that a missing -dev package fails the
# build instead of silently making a librdkafka without TLS, SCRAM or compression.
FEATURES=(--enable-ssl --enable-gssapi --enable-zlib --enable-zstd --enable-lz4-ext --enable-curl)
BUILD_PKGS=(gcc make libc6-dev pkg-config
    libssl-dev libsasl2-dev zlib1g-dev libzstd-dev liblz4-dev libcurl4-openssl-dev)

usage() {
    cat <<EOF
Usage: $LC_PROG [COMMAND]
  build      (default) build librdkafka $LIBRDKAFKA_VERSION into $PREFIX unless it is there
  fetch      only download and check the source tarball; prints its path
  stage DIR  fetch, then put the tarball into DIR (a container build context)
  prefix     print the install folder
  version    print the pinned version
Source: $TARBALL_URL
        (npm package $LIBRDKAFKA_NPM_PACKAGE $LIBRDKAFKA_NPM_VERSION, folder package/deps/librdkafka),
        SHA-256 $LIBRDKAFKA_SHA256
A tarball already in $DOWNLOADS with that hash (e.g. staged for a container build) is
used without a download. Environment: LC_CACHE, LC_NPM_REGISTRY.
EOF
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

fetch() {
    if [ -f "$TARBALL" ] && [ "$(sha256_of "$TARBALL")" = "$LIBRDKAFKA_SHA256" ]; then
        return 0
    fi
    ensure_pkgs curl ca-certificates
    mkdir -p "$DOWNLOADS"
    local tmp="$TARBALL.tmp.$$" got
    say "downloading $TARBALL_URL"
    curl -fsSL --retry 3 -o "$tmp" "$TARBALL_URL" || { rm -f "$tmp"; die "download failed: $TARBALL_URL"; }
    got="$(sha256_of "$tmp")"
    if [ "$got" != "$LIBRDKAFKA_SHA256" ]; then
        rm -f "$tmp"
        die "SHA-256 mismatch for $TARBALL_NAME: got $got, pinned $LIBRDKAFKA_SHA256"
    fi
    mv -f "$tmp" "$TARBALL"
}

# source_version DIR: the version the source declares (rdkafka.h's RD_KAFKA_VERSION, 0xMMmmrrxx).
source_version() {
    local hex
    hex="$(sed -n 's/^#define RD_KAFKA_VERSION *0x\([0-9a-fA-F]*\).*/\1/p' "$1/src/rdkafka.h")"
    [ ${#hex} -eq 8 ] || die "no RD_KAFKA_VERSION in $1/src/rdkafka.h"
    printf '%d.%d.%d\n' "0x${hex:0:2}" "0x${hex:2:2}" "0x${hex:4:2}"
}

build() {
    [ -f "$MK" ] && return 0
    # one build at a time (parallel makes of several build folders all ask for it)
    mkdir -p "$LC_CACHE"
    exec 8>"$LC_CACHE/.librdkafka.lock"
    flock -w 600 8 || die "another librdkafka build is still running ($LC_CACHE/.librdkafka.lock)"
    [ -f "$MK" ] && return 0
    ensure_pkgs "${BUILD_PKGS[@]}"
    fetch
    local work="$PREFIX.build.$$" src v
    rm -rf "$work" "$PREFIX"
    mkdir -p "$work"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    tar -xzf "$TARBALL" -C "$work" package/deps/librdkafka
    src="$work/package/deps/librdkafka"
    v="$(source_version "$src")"
    [ "$v" = "$LIBRDKAFKA_VERSION" ] || die "$TARBALL_NAME carries librdkafka $v, pinned $LIBRDKAFKA_VERSION"
    say "building librdkafka $v (static) into $PREFIX ..."
    (
        cd "$src"
        # configure insists on a C++ compiler for the C++ binding, which is not built here
        # (only src/librdkafka.a): the C compiler answers its `--version` probe.
        ./configure --prefix="$PREFIX" --no-download --cxx=gcc "${FEATURES[@]}" \
            >"$work/configure.log" 2>&1 ||
            { tail -n 30 "$work/configure.log" >&2; exit 1; }
        make -j"$(nproc)" -C src librdkafka.a >"$work/make.log" 2>&1 ||
            { tail -n 30 "$work/make.log" >&2; exit 1; }
        install -d "$PREFIX/include/librdkafka" "$PREFIX/lib"
        install -m 0644 src/rdkafka.h src/rdkafka_mock.h "$PREFIX/include/librdkafka/"
        install -m 0644 src/librdkafka.a "$PREFIX/lib/"
        install -m 0644 LICENSE "$PREFIX/"
        write_mk "$PWD"
    ) || { rm -rf "$PREFIX"; die "librdkafka build failed"; }
    say "librdkafka $v ready in $PREFIX"
}

# write_mk SRC: rdkafka.mk, what the Makefile needs to compile and link against the static
# library. Its own dependencies (TLS, SASL, compression, curl) stay shared libraries of the
# system: the libraries configure chose for the shared librdkafka (Makefile.config's LIBS).
write_mk() {
    local deps
    deps="$(sed -n 's/^LIBS+=//p' "$1/Makefile.config" | tr -s ' \t' '\n' | awk 'NF && !seen[$0]++' | tr '\n' ' ')"
    [ -n "$deps" ] || die "no LIBS in $1/Makefile.config"
    {
        echo "# Written by scripts/librdkafka.sh: librdkafka $LIBRDKAFKA_VERSION, static"
        echo "# (from $TARBALL_NAME, sha256 $LIBRDKAFKA_SHA256)."
        echo "RDK_CFLAGS := -isystem $PREFIX/include"
        echo "RDK_LIBS := $PREFIX/lib/librdkafka.a ${deps% }"
    } >"$MK.tmp"
    mv -f "$MK.tmp" "$MK"
}

case "${1:-build}" in
    build) build ;;
    fetch) fetch; echo "$TARBALL" ;;
    stage)
        [ -d "${2:-}" ] || die "usage: $LC_PROG stage DIR (an existing directory)"
        fetch
        cmp -s "$TARBALL" "$2/$TARBALL_NAME" || cp -f "$TARBALL" "$2/"
        find "$2" -maxdepth 1 -name '*.tgz' ! -name "$TARBALL_NAME" -delete
        say "staged $TARBALL_NAME in $2"
        ;;
    prefix) echo "$PREFIX" ;;
    version) echo "$LIBRDKAFKA_VERSION" ;;
    -h | --help | help) usage ;;
    *) printf '%s: unknown command: %s\n' "$LC_PROG" "$1" >&2; usage >&2; exit 2 ;;
esac
