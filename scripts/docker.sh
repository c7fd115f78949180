#!/usr/bin/env bash
# The Docker engine and the local images behind logclassify's container tests and the
# docker-compose stack. Works on a fresh Debian 12 machine (installs docker.io and
# debootstrap on demand) and on machines where no container registry answers (the Debian
# base image is then made with debootstrap).
#
#   up                  install docker.io / debootstrap when missing, start dockerd when it
#                       does not answer, wait for it; exit 1 with the daemon's own error
#                       when it cannot start
#   base-image          make sure the Debian 12 base image exists; prints its tag (only that)
#   stage-kafka [DIR]   copy the Kafka jars (scripts/kafka.sh's cache) into DIR/libs,
#                       default docker/kafka (the Kafka image's build context)
#   stage-librdkafka    put the pinned librdkafka source tarball into docker/librdkafka/
#                       (docker/Dockerfile's build stage builds it)
#   prepare             up + base-image + stage-kafka + stage-librdkafka (+ docker-compose
#                       when missing): what `docker-compose build` needs
#   status              exit 0 when the engine answers
#   down                stop a dockerd that this script started (never another one)
set -euo pipefail

# shellcheck source=scripts/_common.sh
. "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

DDIR="$LC_STATE_DIR/docker"
DLOG="$DDIR/dockerd.log"
DPID="$DDIR/dockerd.pid"
BASE_TAG="${LC_BASE_IMAGE:-logclassify/debian:bookworm}"
SUITE=bookworm
# The official image pulled when a registry answers: the slim variant, the same shape as
# the image debootstrap makes here (the runtime image has a size target).
OFFICIAL_BASE="debian:bookworm-slim"
MIRROR="${LC_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
KAFKA_VERSION="${LC_KAFKA_VERSION:-4.1.2}"
KAFKA_LIBS="$LC_CACHE/kafka-$KAFKA_VERSION/libs"
START_TIMEOUT="${LC_DOCKER_START_TIMEOUT:-60}"

# Debian's client (engine 20.10) first: another client earlier on PATH may be a newer one
# that wants plugins (buildx) the machine does not have. LC_DOCKER overrides.
if [ -n "${LC_DOCKER:-}" ]; then
    DOCKER="$LC_DOCKER"
elif [ -x /usr/bin/docker ]; then
    DOCKER=/usr/bin/docker
else
    DOCKER="$(command -v docker || echo docker)"
fi

# Messages go to standard error: `base-image` prints nothing but the tag on standard output.
note() { printf '%s: %s\n' "$LC_PROG" "$*" >&2; }

usage() {
    cat <<EOF
Usage: $LC_PROG COMMAND
  up                 install docker.io and debootstrap when missing, start dockerd when it
                     does not answer (log $DLOG), wait until it does
  base-image         make sure $BASE_TAG exists and print the tag: the official
                     $OFFICIAL_BASE when a registry answers, else built with
                     debootstrap --variant=minbase $SUITE, slimmed (no docs, man pages, locales,
                     apt lists); an existing tag is reused
  stage-kafka [DIR]  copy the Kafka $KAFKA_VERSION jars into DIR/libs (default docker/kafka,
                     the Kafka image's build context); downloads them on first use
  stage-librdkafka   put the pinned librdkafka source (scripts/librdkafka.pin) into
                     docker/librdkafka/, where docker/Dockerfile builds it
  prepare            up, base-image, stage-kafka and stage-librdkafka, and installs
                     docker-compose when missing: everything \`docker-compose build\` needs
  status             exit 0 when the engine answers, 3 when not
  down               stop the dockerd this script started (an engine started otherwise is
                     left alone)
Environment: LC_DOCKER (client, default $DOCKER), LC_BASE_IMAGE ($BASE_TAG),
  LC_DEBIAN_MIRROR ($MIRROR), LC_DOCKER_NO_PULL=1 (never try the registry),
  LC_DOCKER_START_TIMEOUT ($START_TIMEOUT), LC_KAFKA_VERSION ($KAFKA_VERSION),
  LC_STATE_DIR ($LC_STATE_DIR), LC_CACHE ($LC_CACHE)
EOF
}

# dk ARGS: the docker client, through sudo when the socket is not ours to use.
dk() {
    if [ "$(id -u)" -eq 0 ] || [ -w /var/run/docker.sock ]; then
        "$DOCKER" "$@"
    else
        as_root "$DOCKER" "$@"
    fi
}

engine_answers() { dk info >/dev/null 2>&1; }

# lock NAME: serialise the commands that change state (several tests may call at once).
lock() {
    mkdir -p "$DDIR"
    exec 8>"$DDIR/.$1.lock"
    flock -w 900 8 || die "another $LC_PROG $1 is still running (lock $DDIR/.$1.lock)"
}

install_engine() {
    # A machine with another engine (docker-ce) keeps it: only install when none is there.
    if ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ] && [ ! -x /usr/bin/dockerd ]; then
        ensure_pkgs docker.io >&2
    fi
    [ -x "$DOCKER" ] || command -v "$DOCKER" >/dev/null 2>&1 || DOCKER=/usr/bin/docker
    ensure_pkgs debootstrap >&2
}

# daemon_error: the daemon's own words about why it stopped (its last error lines).
daemon_error() {
    [ -s "$DLOG" ] || { echo "(no output in $DLOG)"; return; }
    local errs
    errs="$(grep -E 'level=(fatal|error)|failed to start|Error starting daemon' "$DLOG" | tail -n 5 || true)"
    if [ -n "$errs" ]; then printf '%s\n' "$errs"; else tail -n 15 "$DLOG"; fi
}

start_engine() {
    local pid=""   # the background job that runs dockerd (empty under systemd)
    # A systemd host runs its own unit (which also starts containerd the Debian way).
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 &&
        systemctl cat docker.service >/dev/null 2>&1; then
        note "starting docker.service ..."
        as_root systemctl start docker.service ||
            { as_root journalctl -u docker.service -n 20 --no-pager >&2 || true; die "docker.service did not start"; }
    else
        local dockerd
        dockerd="$(command -v dockerd || echo /usr/sbin/dockerd)"
        mkdir -p "$DDIR"
        [ -f "$DLOG" ] && mv -f "$DLOG" "$DLOG.prev"
        note "starting $dockerd (log $DLOG) ..."
        # setsid: not in the caller's process group, so a test's timeout does not take the
        # engine down with it. The pid file is the daemon's own.
        as_root setsid "$dockerd" --pidfile "$DPID" </dev/null >"$DLOG" 2>&1 8>&- 9>&- &
        pid=$!
    fi
    local t0=$SECONDS
    until engine_answers; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            # The daemon exited: say what it said.
            sleep 0.5
            engine_answers && break
            printf '%s\n' "dockerd exited; its last words (log $DLOG):" >&2
            daemon_error >&2
            die "the Docker engine could not start: $(daemon_error | tail -n 1)"
        fi
        if ((SECONDS - t0 >= START_TIMEOUT)); then
            daemon_error >&2
            die "the Docker engine did not answer within ${START_TIMEOUT}s (log $DLOG)"
        fi
        sleep 0.5
    done
    note "Docker engine up ($(dk version -f '{{.Server.Version}}' 2>/dev/null || echo '?'), $((SECONDS - t0))s)"
}

cmd_up() {
    install_engine
    if engine_answers; then
        note "Docker engine answers ($(dk version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        return 0
    fi
    lock engine
    engine_answers && return 0
    start_engine
}

cmd_status() {
    if engine_answers; then
        say "Docker engine answers ($(dk version -f '{{.Server.Version}}' 2>/dev/null || echo '?'))"
    else
        say "Docker engine does not answer"
        return 3
    fi
}

cmd_down() {
    lock engine
    local pid
    pid="$(read_pid "$DPID")"
    if ! pid_alive "$pid" dockerd; then
        say "no dockerd started by $LC_PROG is running (an engine started otherwise is left alone)"
        rm -f "$DPID"
        return 0
    fi
    stop_service dockerd "$pid" "$DPID" 30
}

# slim_tree ROOT: what Debian's slim images leave out, and apt settings for image builds.
slim_tree() {
    local root=$1
    as_root mkdir -p "$root/etc/dpkg/dpkg.cfg.d" "$root/etc/apt/apt.conf.d"
    # Packages installed later (in image builds) leave these out too. The licences stay.
    as_root tee "$root/etc/dpkg/dpkg.cfg.d/90-logclassify-slim" >/dev/null <<'EOF'
# logclassify base image (scripts/docker.sh): no documentation, manual pages or
# translations in images; each package's copyright file is kept.
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/groff/*
path-exclude=/usr/share/lintian/*
path-exclude=/usr/share/linda/*
path-exclude=/usr/share/locale/*
EOF
    as_root tee "$root/etc/apt/apt.conf.d/90-logclassify-image" >/dev/null <<'EOF'
// logclassify base image (scripts/docker.sh): image builds keep no package files,
// no binary caches and no translated descriptions, and install no recommends.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
EOF
    # Security and point-release updates, not only the release itself.
    as_root rm -f "$root/etc/apt/sources.list"
    as_root tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${LC_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    # What debootstrap installed before the exclusions existed.
    as_root find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    as_root find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
    as_root rm -rf "$root"/usr/share/{man,info,groff,lintian,linda,locale}/*
    # Build leftovers and host files: the engine provides resolv.conf, hostname and hosts.
    as_root rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
        "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/debconf/*-old \
        "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/root/.bash_history \
        "$root"/debootstrap
    as_root sh -c ": >'$root/etc/resolv.conf'; : >'$root/etc/hostname'; : >'$root/etc/machine-id'"
}

build_base() {
    ensure_pkgs debootstrap >&2
    local dir root log="$DDIR/debootstrap.log"
    dir="$(mktemp -d "${TMPDIR:-/var/tmp}/lc-debootstrap.XXXXXX")"
    root="$dir/root"
    note "building $BASE_TAG with debootstrap --variant=minbase $SUITE ($MIRROR; log $log) ..."
    local t0=$SECONDS
    if ! as_root debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        as_root rm -rf "$dir"
        die "debootstrap failed (log $log)"
    fi
    slim_tree "$root"
    if ! as_root tar --numeric-owner -C "$root" -c . |
        dk import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'CMD ["bash"]' \
            --message "debootstrap --variant=minbase $SUITE, slimmed by scripts/docker.sh" \
            - "$BASE_TAG" >/dev/null; then
        as_root rm -rf "$dir"
        die "docker import of the debootstrap tree failed"
    fi
    as_root rm -rf "$dir"
    note "built $BASE_TAG from debootstrap in $((SECONDS - t0))s ($(dk image ls -f "reference=$BASE_TAG" --format '{{.Size}}'))"
}

cmd_base_image() {
    engine_answers || die "the Docker engine does not answer (run: $LC_PROG up)"
    lock base
    if dk image inspect "$BASE_TAG" >/dev/null 2>&1; then
        note "using the existing $BASE_TAG"
    elif [ "${LC_DOCKER_NO_PULL:-0}" != 1 ] && dk pull -q "$OFFICIAL_BASE" >"$DDIR/pull.log" 2>&1; then
        dk tag "$OFFICIAL_BASE" "$BASE_TAG"
        note "pulled the official $OFFICIAL_BASE and tagged it $BASE_TAG"
    else
        [ "${LC_DOCKER_NO_PULL:-0}" = 1 ] ||
            note "cannot pull $OFFICIAL_BASE ($(tail -n 1 "$DDIR/pull.log" 2>/dev/null)); using debootstrap"
        build_base
    fi
    echo "$BASE_TAG"
}

# stage-kafka [DIR]: the jars into DIR/libs, exactly the cached set (stale jars removed),
# so the Kafka image's build context holds this version and nothing else.
cmd_stage_kafka() {
    local dir="${1:-$LC_REPO_DIR/docker/kafka}" j
    [ -d "$dir" ] || die "no such directory: $dir"
    if [ ! -f "$KAFKA_LIBS/.complete" ]; then
        LC_KAFKA_VERSION="$KAFKA_VERSION" "$LC_SCRIPTS_DIR/kafka.sh" jars >&2 ||
            die "could not fetch the Kafka $KAFKA_VERSION jars"
    fi
    mkdir -p "$dir/libs"
    for j in "$dir"/libs/*.jar; do
        [ -e "$j" ] || continue
        [ -f "$KAFKA_LIBS/$(basename "$j")" ] || rm -f "$j"
    done
    for j in "$KAFKA_LIBS"/*.jar; do
        cmp -s "$j" "$dir/libs/$(basename "$j")" 2>/dev/null && continue
        ln -f "$j" "$dir/libs/" 2>/dev/null || cp -f "$j" "$dir/libs/"
    done
    echo "$KAFKA_VERSION" >"$dir/libs/VERSION"
    note "staged $(find "$dir/libs" -name '*.jar' | wc -l) Kafka $KAFKA_VERSION jars in $dir/libs"
}

# stage-librdkafka: the pinned librdkafka source tarball into docker/librdkafka/, where
# docker/Dockerfile's build stage finds it (no registry but Debian's inside a build).
cmd_stage_librdkafka() {
    "$LC_SCRIPTS_DIR/librdkafka.sh" stage "$LC_REPO_DIR/docker/librdkafka" >&2
}

cmd_prepare() {
    cmd_up
    ensure_cmd docker-compose docker-compose >&2
    cmd_base_image >/dev/null
    cmd_stage_kafka "$@"
    cmd_stage_librdkafka
}

case "${1:-}" in
    up) cmd_up ;;
    base-image) cmd_base_image ;;
    stage-kafka) shift; cmd_stage_kafka "$@" ;;
    stage-librdkafka) cmd_stage_librdkafka ;;
    prepare) shift; cmd_prepare "$@" ;;
    status) cmd_status ;;
    down) cmd_down ;;
    -h | --help | help) usage ;;
    "") usage >&2; exit 2 ;;
    *) printf '%s: unknown command: %s\n' "$LC_PROG" "$1" >&2; usage >&2; exit 2 ;;
esac
