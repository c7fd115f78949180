# shellcheck shell=bash
# Helpers shared by the local-services scripts (sourced, not run).
#   LC_STATE_DIR  runtime state (data, logs, pid files); default /tmp/logclassify-services
#   LC_CACHE      downloaded artefacts (Kafka jars);     default ~/.cache/logclassify

LC_REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LC_SCRIPTS_DIR="$LC_REPO_DIR/scripts"
LC_STATE_DIR="${LC_STATE_DIR:-/tmp/logclassify-services}"
LC_CACHE="${LC_CACHE:-${HOME:-/root}/.cache/logclassify}"
LC_PROG="$(basename "$0")"

say()  { printf '%s: %s\n' "$LC_PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$LC_PROG" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$LC_PROG" "$*" >&2; exit 1; }

# Run a command as root (directly, or through sudo when we are not root).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root or sudo to run: $*"
    fi
}

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# Install the given Debian packages that are not installed yet
# (apt-get update once first); does nothing when all are present.
ensure_pkgs() {
    local p missing=()
    for p in "$@"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing missing packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_cmd COMMAND PACKAGE: install PACKAGE when COMMAND is not found.
ensure_cmd() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || ensure_pkgs "$2"
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || die "command '$1' not found after installing $2"
}

# pid_alive PID MARKER: PID is running and its command line contains MARKER
# (guards against a stale pid file pointing at a recycled pid).
pid_alive() {
    local pid="$1" marker="$2"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# read_pid FILE: print the pid stored in FILE (empty when missing).
read_pid() {
    [ -f "$1" ] && tr -dc '0-9' <"$1" || true
}

# port_busy PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_gone PID SECONDS: wait until PID has exited; 1 on timeout.
wait_gone() {
    local pid="$1" i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    return 1
}

# Serialise start/stop of one service: lock_service DIR.
lock_service() {
    mkdir -p "$1"
    exec 9>"$1/.lock"
    flock -w 120 9 || die "another $LC_PROG is still running (lock $1/.lock)"
}

# stop_service NAME PID PIDFILE TIMEOUT: SIGTERM (a clean shutdown for both Kafka and
# mariadbd), SIGKILL after TIMEOUT seconds; PID empty means not running.
stop_service() {
    local name="$1" pid="$2" pidfile="$3" timeout="$4"
    if [ -z "$pid" ]; then
        rm -f "$pidfile"
        say "not running"
        return 0
    fi
    say "stopping $name (pid $pid) ..."
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" "$timeout"; then
        warn "no clean exit after ${timeout}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
    fi
    rm -f "$pidfile"
    say "stopped"
}

# kill_service NAME PID PIDFILE: kill -9 (fault tests); PID empty means not running.
kill_service() {
    local name="$1" pid="$2" pidfile="$3"
    if [ -z "$pid" ]; then
        say "not running"
        return 0
    fi
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
    rm -f "$pidfile"
    say "killed $name (pid $pid) with SIGKILL"
}
