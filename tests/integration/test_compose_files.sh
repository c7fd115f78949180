#!/usr/bin/env bash
# once-only
# The deployment files, checked without a Docker engine or systemd: both compose files
# validate (docker-compose config) and every file they mount or build from exists; the
# default services are the ones test_compose_stack runs, the Elastic ones sit behind the
# profile "elastic"; the MSK override really leaves the local Kafka out; every Dockerfile
# copies files that exist and that .dockerignore lets into its build context; the
# logclassify Dockerfile and the systemd test image install a package for every library the
# binaries link;
# the images' entrypoint scripts parse; dashboard.ndjson is
# valid NDJSON whose references resolve and whose fields the index template maps;
# logstash.conf and the Kibana/MariaDB init scripts are well-formed; every
# conf/examples/*.yaml passes --check-config with secrets masked and librdkafka knows all
# its properties; the systemd unit passes systemd-analyze verify.
. "$(dirname "$0")/lib.sh"

DC=$(command -v docker-compose || true)
[ -n "$DC" ] || fail "docker-compose not found on PATH: install Debian's (apt-get install docker-compose) or run scripts/deps.sh"
[ -x "$LC" ] || fail "$LC missing: run make all"
# A Python with PyYAML: docker-compose's own interpreter has it.
PY=python3
if ! "$PY" -c 'import yaml' 2>/dev/null; then
    PY=$(sed -n '1s/^#! *//p' "$DC")
    "$PY" -c 'import yaml' 2>/dev/null || fail "no python3 with the yaml module"
fi
ENVF=$ROOT/docker/.env.example
BASE=$ROOT/docker/docker-compose.yml
MSK=$ROOT/docker/docker-compose.msk.yml
checks=0
ok() { checks=$((checks + 1)); log "ok: $*"; }

# --- compose files -------------------------------------------------------------------------
compose() { "$DC" --env-file "$ENVF" "$@"; }
compose -f "$BASE" config -q || fail "docker-compose config: docker/docker-compose.yml is invalid"
ok "docker-compose config -q docker/docker-compose.yml"
compose -f "$BASE" -f "$MSK" config -q || fail "docker-compose config: the MSK override is invalid"
ok "docker-compose config -q docker/docker-compose.yml + docker-compose.msk.yml"

# No secret has a silent default: without docker/.env's values compose refuses to start.
: >"$T/empty.env"
if env -u MYSQL_PASSWORD -u MYSQL_ROOT_PASSWORD "$DC" --env-file "$T/empty.env" -f "$BASE" config -q \
        >"$T/nosecret.out" 2>&1; then
    fail "docker-compose.yml validates without MYSQL_ROOT_PASSWORD / MYSQL_PASSWORD: a secret has a default"
fi
grep -q 'MYSQL_ROOT_PASSWORD\|MYSQL_PASSWORD' "$T/nosecret.out" ||
    { cat "$T/nosecret.out"; fail "missing-secret error does not name the variable"; }
ok "compose refuses to start without the MySQL passwords"

compose -f "$BASE" config >"$T/base.yml"
compose -f "$BASE" -f "$MSK" config >"$T/msk.yml"
# Every bind mount source and build context/Dockerfile named by either file must exist in
# the repository (compose would otherwise create an empty directory in its place).
"$PY" - "$ROOT" "$T/base.yml" "$T/msk.yml" <<'PY' || fail "a compose file mounts or builds from a missing path"
import os, sys, yaml
root, bad, seen = os.path.realpath(sys.argv[1]), [], set()
for path in sys.argv[2:]:
    doc = yaml.safe_load(open(path))
    named = set((doc.get("volumes") or {}).keys())
    for name, svc in doc["services"].items():
        b = svc.get("build")
        if b:
            ctx = b["context"] if isinstance(b, dict) else b
            df = os.path.join(ctx, b.get("dockerfile", "Dockerfile")) if isinstance(b, dict) else os.path.join(ctx, "Dockerfile")
            for p in (ctx, df):
                seen.add(p)
                if not os.path.exists(p): bad.append(f"{name}: build {p}")
        for v in svc.get("volumes") or []:
            src = v.get("source") if isinstance(v, dict) else v.split(":")[0]
            if not src or src in named:
                continue
            seen.add(src)
            if not os.path.exists(src): bad.append(f"{name}: mount {src}")
            elif not os.path.realpath(src).startswith(root + os.sep): bad.append(f"{name}: {src} is outside the repository")
for b in bad: print("missing:", b)
print("checked %d host paths: %s" % (len(seen), " ".join(sorted(os.path.relpath(p, root) for p in seen))))
sys.exit(1 if bad else 0)
PY
ok "every mounted file and build input exists"

# The services `up` starts: the base file starts all of them; with the MSK override the
# local kafka (profile local-kafka) and loggen (profile loggen) stay off, and nothing that
# does start depends on them (compose would refuse). Uses docker-compose's own resolver,
# with a stand-in for the Docker client; skipped when docker-compose is not the Python one.
DCPY=$(sed -n '1s/^#! *//p' "$DC")
if [ -n "$DCPY" ] && "$DCPY" -c 'import compose' 2>/dev/null; then
    "$DCPY" - "$ROOT/docker" "$ENVF" >"$T/services.out" 2>&1 <<'PY' || { cat "$T/services.out"; fail "service resolution"; }
import sys
from unittest import mock
from compose.config import config
from compose.config.environment import Environment
from compose.project import Project
d, envf = sys.argv[1], sys.argv[2]
client = mock.MagicMock(api_version="1.41")
def up(files, profiles=()):
    cd = config.load(config.find(d, files, Environment.from_env_file(d, envf)))
    return sorted(s.name for s in Project.from_config("lc", cd, client, enabled_profiles=list(profiles)).get_services(include_deps=True))
base = up(["docker-compose.yml"])
elastic = up(["docker-compose.yml"], ["elastic"])
msk = up(["docker-compose.yml", "docker-compose.msk.yml"])
msk_elastic = up(["docker-compose.yml", "docker-compose.msk.yml"], ["elastic"])
print("base:       ", " ".join(base)); print("+elastic:   ", " ".join(elastic))
print("msk:        ", " ".join(msk)); print("msk+elastic:", " ".join(msk_elastic))
stack = {"kafka", "kafka-init", "mysql", "logclassify", "loggen"}
es = {"elasticsearch", "es-setup", "logstash", "kibana", "kibana-setup"}
assert set(base) == stack, "base services: %s" % base
assert set(elastic) == stack | es, "services with --profile elastic: %s" % elastic
assert set(msk) == stack - {"kafka", "loggen"}, "msk services: %s" % msk
assert set(msk_elastic) == (stack | es) - {"kafka", "loggen"}, "msk services with --profile elastic: %s" % msk_elastic
PY
    cat "$T/services.out"
    ok "services: the stack by default, Elastic behind --profile elastic; MSK override leaves local kafka and loggen out"
else
    log "note: docker-compose is not the Python implementation; service resolution not checked"
fi

# --- Dockerfiles ------------------------------------------------------------------------------
# Every image the compose file builds: each COPY source (outside other stages) exists in its
# build context, and the context's .dockerignore lets it in (last matching pattern wins, as
# Docker reads it); the images' own scripts parse.
"$PY" - "$T/base.yml" "$T/msk.yml" <<'PY' || fail "a Dockerfile copies a file its build context lacks"
import fnmatch, os, re, sys, yaml
builds = {}
for path in sys.argv[1:]:
    for name, svc in yaml.safe_load(open(path))["services"].items():
        b = svc.get("build")
        if b:
            builds[(b["context"], b.get("dockerfile", "Dockerfile"))] = name
def ignored(ctx, rel):
    ign = os.path.join(ctx, ".dockerignore")
    if not os.path.exists(ign):
        return False
    verdict = False
    for line in open(ign):
        pat = line.strip()
        if not pat or pat.startswith("#"):
            continue
        neg = pat.startswith("!")
        pat = pat.lstrip("!").strip("/")
        if fnmatch.fnmatchcase(rel, pat) or rel.startswith(pat + "/"):
            verdict = not neg
    return verdict
bad = []
for (ctx, df), name in sorted(builds.items()):
    text = open(os.path.join(ctx, df)).read().replace("\\\n", " ")
    n = 0
    for m in re.finditer(r"^COPY\s+(.*)$", text, re.M):
        words = [w for w in m.group(1).split() if not w.startswith("--")]
        if "--from=" in m.group(1):
            continue
        for src in words[:-1]:
            rel = os.path.normpath(src).strip("/")
            n += 1
            if not os.path.exists(os.path.join(ctx, rel)):
                bad.append(f"{name}: {df} copies {src}, which is not in its build context {ctx}")
            elif ignored(ctx, rel):
                bad.append(f"{name}: {df} copies {src}, which {ctx}/.dockerignore leaves out")
    print(f"{name}: {os.path.relpath(os.path.join(ctx, df))}: {n} COPY sources in the context")
for b in bad: print("error:", b)
sys.exit(1 if bad else 0)
PY
for f in docker/kafka/bin/kafka-server docker/kafka/bin/kafka-run-class.sh docker/mariadb/entrypoint.sh; do
    bash -n "$f" || fail "$f: syntax"
    if command -v shellcheck >/dev/null; then shellcheck -x "$f" || fail "shellcheck $f"; fi
done
# Every shared library the binaries need comes from a package the image installs: the
# logclassify image's runtime stage, and the systemd test image that `make install` copies
# them into (it broke once: MSK IAM added libjansson.so.4, and only test_systemd_unit's ldd
# found out, minutes into make check).
if command -v dpkg >/dev/null && command -v readelf >/dev/null; then
    runtime=$(sed -n '/^FROM .* AS runtime/,$p' docker/Dockerfile)
    systemd_image=$(cat docker/systemd/Dockerfile)
    # this architecture's copy (clang pulls in libc6-i386, which has a /lib32/libm.so.6 too)
    multiarch=$(gcc -print-multiarch)
    for bin in "$LC" "$ROOT/$BUILD/loggen"; do
        for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
            pkg=$(dpkg -S "*/$multiarch/$lib" 2>/dev/null | head -1 | cut -d: -f1)
            [ -n "$pkg" ] || fail "no Debian package provides $lib"
            case "$pkg" in libc6) continue ;; esac   # in every Debian image
            grep -qw -- "$pkg" <<<"$runtime" ||
                fail "$(basename "$bin") needs $lib from $pkg, which docker/Dockerfile's runtime stage does not install"
            case "$pkg" in libsystemd0) continue ;; esac   # systemd itself depends on it
            grep -qw -- "$pkg" <<<"$systemd_image" ||
                fail "$(basename "$bin") needs $lib from $pkg, which docker/systemd/Dockerfile does not install"
        done
    done
    ok "Dockerfiles: COPY sources exist and pass .dockerignore; the runtime stage and the systemd test image install every linked library's package"
else
    ok "Dockerfiles: COPY sources exist and pass .dockerignore (dpkg/readelf absent: library check skipped)"
fi
# Exec-form instructions must be JSON arrays (Docker silently runs anything else through
# /bin/sh -c as one string); the ones the brief fixes must say what it says.
"$PY" - docker/Dockerfile <<'PY' || fail "docker/Dockerfile: exec-form instructions"
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
forms = {}
for m in re.finditer(r"^(ENTRYPOINT|CMD|HEALTHCHECK[^\n]*?CMD)\s+(\[.*\])\s*$", text, re.M):
    forms[m.group(1).split()[0]] = json.loads(m.group(2))
assert forms.get("ENTRYPOINT") == ["/usr/bin/tini", "--", "logclassify"], forms.get("ENTRYPOINT")
assert forms.get("CMD") == ["-c", "/etc/logclassify/app.yaml"], forms.get("CMD")
assert "/healthz" in " ".join(forms.get("HEALTHCHECK", [])), "HEALTHCHECK does not ask /healthz"
assert re.search(r"^EXPOSE 9108$", text, re.M) and re.search(r"^USER (?!root)", text, re.M)
PY
# The build stage's `make all` works from exactly what it copies (Makefile, include/, src/,
# and the scripts that build the pinned librdkafka): a new build input the Dockerfile does
# not copy fails here, not in someone's docker build.
mkdir -p "$T/ctx/scripts"
cp -r Makefile include src "$T/ctx/"
cp scripts/_common.sh scripts/librdkafka.sh scripts/librdkafka.pin "$T/ctx/scripts/"
make -s -C "$T/ctx" -j"$(nproc)" all >"$T/ctx.log" 2>&1 || { tail -20 "$T/ctx.log"; fail "make all fails with only the files docker/Dockerfile copies"; }
# The image's app.yaml as the container sees it: conf/app.yaml through the Dockerfile's own
# sed line (if it still has one), with the image's ENV METRICS_LISTEN. The endpoint must be
# open (0.0.0.0:9108), follow METRICS_LISTEN, and the file must still validate.
sedexpr=$(sed -n "s/^RUN sed -E -i '\([^']*\)' .*/\1/p" docker/Dockerfile)
sed -E "${sedexpr:-p;d}" conf/app.yaml >"$T/image-app.yaml"
image_listen=$(sed -n 's/^ENV METRICS_LISTEN=//p' docker/Dockerfile)
env -u METRICS_LISTEN ${image_listen:+METRICS_LISTEN="$image_listen"} \
    "$T/ctx/build/logclassify" -c "$T/image-app.yaml" --check-config >"$T/image.out" ||
    fail "the image's app.yaml does not validate"
grep -q 'listen: "0.0.0.0:9108"' "$T/image.out" || fail "the image's app.yaml does not listen on 0.0.0.0:9108"
METRICS_LISTEN=0.0.0.0:9999 "$T/ctx/build/logclassify" -c "$T/image-app.yaml" --check-config |
    grep -q 'listen: "0.0.0.0:9999"' || fail "the image's app.yaml ignores METRICS_LISTEN"
ok "Dockerfile: make all builds from the copied files alone; the image's app.yaml listens on 0.0.0.0:9108"

# --- Kibana / Elasticsearch -------------------------------------------------------------------
"$PY" - docker/kibana/dashboard.ndjson docker/kibana/import.sh <<'PY' || fail "docker/kibana/dashboard.ndjson"
import json, re, sys
objs, ids = [], set()
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    if not line.strip():
        continue
    try:
        o = json.loads(line)
    except ValueError as e:
        sys.exit(f"line {n}: not JSON: {e}")
    if not isinstance(o, dict) or not {"id", "type", "attributes"} <= o.keys():
        sys.exit(f"line {n}: not a saved object (id, type, attributes)")
    for k in ("visState", "uiStateJSON", "panelsJSON", "optionsJSON"):
        if k in o["attributes"]:
            json.loads(o["attributes"][k])
    meta = o["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
    if meta:
        json.loads(meta)
    objs.append(o); ids.add((o["type"], o["id"]))
for o in objs:
    for r in o.get("references", []):
        if (r["type"], r["id"]) not in ids:
            sys.exit(f'{o["type"]} {o["id"]}: reference to missing {r["type"]} {r["id"]}')
types = sorted(o["type"] for o in objs)
for t in ("index-pattern", "visualization", "dashboard"):
    if t not in types: sys.exit(f"no {t} object")
ip = [o for o in objs if o["type"] == "index-pattern"][0]["attributes"]
if ip["title"] != "server-logs-status-*": sys.exit("data view title is " + ip["title"])
dash = [o for o in objs if o["type"] == "dashboard"][0]
names = {r["name"] for r in dash["references"]}
for p in json.loads(dash["attributes"]["panelsJSON"]):
    if p["panelIndex"] + ":" + p["panelRefName"] not in names:
        sys.exit("dashboard panel %s has no reference" % p["panelIndex"])
# The fields the visualizations aggregate on must be mapped by import.sh's index template
# (aggregatable keyword/date), or the dashboard shows errors instead of counts.
sh = open(sys.argv[2]).read()
tmpl = re.search(r"<<JSON\n(.*?)\nJSON\n", sh, re.S).group(1)
tmpl = json.loads(re.sub(r"\$\{[A-Z_]+:-(\d+)\}", r"\1", tmpl))
props = tmpl["template"]["mappings"]["properties"]
for o in objs:
    if o["type"] != "visualization": continue
    for a in json.loads(o["attributes"]["visState"])["aggs"]:
        f = a["params"].get("field")
        if f and (f not in props or props[f]["type"] not in ("keyword", "date")):
            sys.exit(f'{o["id"]}: field {f} is not a keyword/date field of the index template')
print("%d saved objects (%s), references resolve, template maps %d fields" % (len(objs), " ".join(types), len(props)))
PY
ok "dashboard.ndjson: every line a saved object, references and fields consistent with import.sh"
bash -n docker/kibana/import.sh || fail "docker/kibana/import.sh: syntax"
bash -n docker/mysql/02-readonly-user.sh || fail "docker/mysql/02-readonly-user.sh: syntax"
if command -v shellcheck >/dev/null; then
    shellcheck docker/kibana/import.sh docker/mysql/02-readonly-user.sh || fail "shellcheck"
fi
ok "import.sh and 02-readonly-user.sh parse (and pass shellcheck where installed)"

# The seed rows are exactly the users table loggen assumes for the compose loggen service.
if [ -x "$LOGGEN" ]; then
    "$LOGGEN" --seed 42 --users 1000 -n 0 --stdout --users-sql "$T/seed.sql" >/dev/null 2>&1
    sed '/^--/d' docker/mysql/03-seed-users.sql | cmp -s - "$T/seed.sql" ||
        fail "docker/mysql/03-seed-users.sql differs from loggen --seed 42 --users 1000 (regenerate it: see its header)"
    ok "03-seed-users.sql = loggen --seed 42 --users 1000"
fi

# --- Logstash -------------------------------------------------------------------------------------
"$PY" - conf/logstash.conf <<'PY' || fail "conf/logstash.conf"
import re, sys
text = open(sys.argv[1]).read()
depth, quote = 0, None
for n, line in enumerate(text.splitlines(), 1):
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\": i += 1
            elif c == quote: quote = None
        elif c == "#": break
        elif c in "\"'": quote = c
        elif c == "{": depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0: sys.exit(f"line {n}: unbalanced }}")
        i += 1
if depth or quote: sys.exit("unbalanced braces or an unterminated string")
code = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
# Logstash's default syntax is ${NAME:default}; ${NAME:-x} would make the default "-x".
bad = re.findall(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-", code)
if bad: sys.exit("shell-style ${NAME:-...} in a Logstash config: %s" % bad)
for need in ('isolation_level => "read_committed"', '"server-logs-status"', 'index => "server-logs-status-%{+YYYY.MM.dd}"',
             "event_timestamp", '"UNIX"', '"ISO8601"'):
    if need not in code: sys.exit("missing: " + need)
for section in ("input", "filter", "output"):
    if not re.search(r"^%s\s*\{" % section, code, re.M): sys.exit("no %s section" % section)
print("braces balanced, env defaults in Logstash syntax, read_committed, daily index")
PY
ok "conf/logstash.conf is well-formed"

# --- conf/examples ----------------------------------------------------------------------------------
# shellcheck disable=SC2054  # the commas are inside one value (a broker list)
dummy_env=(KAFKA_BROKERS=b-1.example.invalid:9096,b-2.example.invalid:9096 KAFKA_SASL_USERNAME=dummy-user
           KAFKA_SASL_PASSWORD=dummy-Secret-9z MYSQL_HOST=db.example.invalid MYSQL_PASSWORD=dummy-Secret-9z
           KAFKA_SSL_KEY_PASSWORD=dummy-Secret-9z AWS_REGION=eu-west-1)
n=0
for f in conf/examples/*.yaml; do
    env -i PATH="$PATH" "${dummy_env[@]}" "$LC" -c "$f" --check-config >"$T/check.out" 2>"$T/check.err" ||
        { cat "$T/check.err"; fail "$f does not pass --check-config"; }
    ! grep -q 'dummy-Secret-9z' "$T/check.out" || fail "$f: --check-config printed a secret"
    # librdkafka must know every kafka.consumer / kafka.producer property (--check-config
    # passes them through unchecked): kcat sets each one and dumps the configuration.
    if command -v kcat >/dev/null; then
        props=()
        while IFS= read -r kv; do props+=(-X "$kv"); done < <("$PY" - "$T/check.out" <<'PY'
import sys, yaml
doc = yaml.safe_load("".join(l for l in open(sys.argv[1]) if not l.startswith("#")))
for sec in ("consumer", "producer"):
    for k, v in (doc["kafka"].get(sec) or {}).items():
        print(f"{k}={v}")
PY
        )
        if [ "${#props[@]}" -gt 0 ]; then
            kcat "${props[@]}" -X dump >/dev/null 2>"$T/kcat.err" ||
                { cat "$T/kcat.err"; fail "$f: librdkafka refuses a kafka property"; }
        fi
    fi
    n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "expected the 3 example configurations, found $n"
# Without the variables the examples need, the service refuses to start (no silent default).
rc=0; env -i PATH="$PATH" "$LC" -c conf/examples/msk-scram.yaml --check-config >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "msk-scram.yaml without KAFKA_BROKERS: exit $rc, expected 2"
rc=0; env -i PATH="$PATH" "${dummy_env[@]}" AWS_REGION= "$LC" -c conf/examples/msk-iam.yaml --check-config >"$T/noregion.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q 'kafka.aws_iam.region is required' "$T/noregion.out" ||
    { cat "$T/noregion.out"; fail "msk-iam.yaml without AWS_REGION: exit $rc, expected 2 naming kafka.aws_iam.region"; }
ok "$n conf/examples/*.yaml pass --check-config with secrets masked; librdkafka accepts their properties"

# --- systemd unit -----------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # ExecStart names the installed /usr/local/bin/logclassify; verify a copy naming the build.
    sed "s|^ExecStart=/usr/local/bin/logclassify |ExecStart=$LC |" conf/logclassify.service >"$T/logclassify.service"
    grep -q "^ExecStart=$LC -c /etc/logclassify/app.yaml$" "$T/logclassify.service" || fail "unexpected ExecStart line"
    # verify exits 0 even for unknown keys and unparsable values ("..., ignoring"): any
    # output at all is a failure.
    (cd "$T" && systemd-analyze verify logclassify.service) >"$T/verify.out" 2>&1 ||
        { cat "$T/verify.out"; fail "systemd-analyze verify failed"; }
    [ ! -s "$T/verify.out" ] || { cat "$T/verify.out"; fail "systemd-analyze verify complained"; }
    for key in Type=notify WatchdogSec=30 NotifyAccess=main RestartPreventExitStatus=2 DynamicUser=yes \
               StateDirectory=logclassify EnvironmentFile=-/etc/logclassify/logclassify.env; do
        grep -qx "$key" conf/logclassify.service || fail "conf/logclassify.service: no $key"
    done
    exposure=$(cd "$T" && { systemd-analyze security --offline=true logclassify.service 2>/dev/null || true; } |
        sed -n 's/.*Overall exposure level for [^:]*: *//p')
    ok "systemd-analyze verify conf/logclassify.service: clean${exposure:+ (security exposure $exposure)}"
else
    log "note: systemd-analyze not installed: conf/logclassify.service not verified"
fi

echo "result: PASS $checks checks (compose x2, mounts, Dockerfile, dashboard, logstash, $n examples, systemd unit)"
