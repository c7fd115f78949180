#!/usr/bin/env bash
# Prepares Elasticsearch and Kibana for logclassify's output (index server-logs-status-*).
#
#   import.sh template   PUT the index template server-logs-status into Elasticsearch
#   import.sh kibana     import dashboard.ndjson (data view, visualizations, saved search,
#                        dashboard) through Kibana's saved objects import API, overwriting
#                        earlier copies, and make the data view the default one
#   import.sh [all]      both
#
# Run by the es-setup and kibana-setup one-shot services of docker/docker-compose.yml, and
# usable as is against any other cluster:
#
#   ES_URL=https://es.example:9200 KIBANA_URL=https://kibana.example:5601 \
#   ES_USER=elastic ES_PASSWORD=... ES_REPLICAS=1 docker/kibana/import.sh
#
# Environment:
#   ES_URL          Elasticsearch (default http://localhost:9200)
#   KIBANA_URL      Kibana (default http://localhost:5601)
#   ES_USER, ES_PASSWORD          basic auth for both, when security is on (default: none)
#   KIBANA_SPACE    Kibana space to import into (default: the default space)
#   ES_REPLICAS     replicas per index of the template (default 0: a single-node cluster)
#   ES_SHARDS       primary shards per daily index (default 1)
#   WAIT_S          how long to wait for Elasticsearch / Kibana to be ready (default 300)
#   CURL_CA         CA bundle for https URLs (default: the system's)
#
# Why a template: the records are the producers' JSON, and a field can arrive as a string
# in one record and a number or object in the next (that is what makes a record bad).
# Dynamic mapping would fix each field's type from the first record of the day and then
# reject the others, so the bad records -- the ones worth looking at -- would be missing
# from Kibana. The template maps the fields the dashboard uses as keyword, turns off
# date/numeric detection, and conf/logstash.conf turns every other value into a string.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ES_URL=${ES_URL:-http://localhost:9200}
KIBANA_URL=${KIBANA_URL:-http://localhost:5601}
WAIT_S=${WAIT_S:-300}
NDJSON=${NDJSON:-$HERE/dashboard.ndjson}
TEMPLATE_NAME=server-logs-status
DATA_VIEW_ID=lc-server-logs-status

say() { printf 'import.sh: %s\n' "$*"; }
die() { printf 'import.sh: error: %s\n' "$*" >&2; exit 1; }

CURL=(curl -sS --connect-timeout 5 --max-time 60)
if [ -n "${ES_USER:-}" ]; then
    CURL+=(-u "$ES_USER:${ES_PASSWORD:-}")
fi
if [ -n "${CURL_CA:-}" ]; then
    CURL+=(--cacert "$CURL_CA")
fi

BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

# http METHOD URL [curl args...]: the response body lands in $BODY, the status is printed.
http() {
    local method=$1 url=$2
    shift 2
    # curl prints 000 itself when it cannot connect; its exit status is not needed.
    "${CURL[@]}" -X "$method" -o "$BODY" -w '%{http_code}' "$@" "$url" || true
}

# wait_for WHAT URL PATTERN: until GET URL answers 200 with a body matching PATTERN.
wait_for() {
    local what=$1 url=$2 pattern=$3 start=$SECONDS code
    say "waiting for $what at $url"
    while :; do
        code=$(http GET "$url")
        if [ "$code" = 200 ] && grep -Eq "$pattern" "$BODY"; then
            return 0
        fi
        [ $((SECONDS - start)) -lt "$WAIT_S" ] ||
            die "$what not ready after ${WAIT_S}s (last HTTP status $code: $(head -c 300 "$BODY"))"
        sleep 3
    done
}

put_template() {
    wait_for Elasticsearch "$ES_URL/_cluster/health" '"status" *: *"(green|yellow)"'
    local code
    code=$(http PUT "$ES_URL/_index_template/$TEMPLATE_NAME" \
        -H 'Content-Type: application/json' --data-binary @- <<JSON
{
  "index_patterns": ["server-logs-status-*"],
  "priority": 200,
  "_meta": {"description": "logclassify output records (conf/logstash.conf)"},
  "template": {
    "settings": {
      "number_of_shards": ${ES_SHARDS:-1},
      "number_of_replicas": ${ES_REPLICAS:-0}
    },
    "mappings": {
      "date_detection": false,
      "numeric_detection": false,
      "dynamic_templates": [
        {"strings_as_keyword": {
          "match_mapping_type": "string",
          "mapping": {"type": "keyword", "ignore_above": 1024}}}
      ],
      "properties": {
        "@timestamp":       {"type": "date"},
        "event_time":       {"type": "date"},
        "status":           {"type": "keyword"},
        "reasons":          {"type": "keyword"},
        "event_id":         {"type": "keyword", "ignore_above": 1024},
        "account_id":       {"type": "keyword", "ignore_above": 1024},
        "event_type":       {"type": "keyword", "ignore_above": 1024},
        "device":           {"type": "keyword", "ignore_above": 1024},
        "location_country": {"type": "keyword", "ignore_above": 1024},
        "event_timestamp":  {"type": "keyword", "ignore_above": 1024},
        "raw":              {"type": "keyword", "index": false, "doc_values": false},
        "raw_base64":       {"type": "keyword", "index": false, "doc_values": false},
        "raw_bytes":        {"type": "long"},
        "lc_source":        {"type": "keyword"}
      }
    }
  }
}
JSON
    )
    [ "$code" = 200 ] || die "PUT _index_template/$TEMPLATE_NAME: HTTP $code: $(head -c 500 "$BODY")"
    say "index template $TEMPLATE_NAME installed (server-logs-status-*, replicas ${ES_REPLICAS:-0})"
}

import_kibana() {
    [ -r "$NDJSON" ] || die "cannot read $NDJSON"
    local base=$KIBANA_URL code
    if [ -n "${KIBANA_SPACE:-}" ]; then
        base=$KIBANA_URL/s/$KIBANA_SPACE
    fi
    wait_for Kibana "$KIBANA_URL/api/status" '"level" *: *"available"'
    code=$(http POST "$base/api/saved_objects/_import?overwrite=true" \
        -H 'kbn-xsrf: true' --form "file=@$NDJSON")
    if [ "$code" != 200 ] || ! grep -Eq '"success" *: *true' "$BODY"; then
        die "saved objects import: HTTP $code: $(head -c 1000 "$BODY")"
    fi
    say "imported $(grep -Eo '"successCount" *: *[0-9]+' "$BODY" | tr -dc 0-9) saved objects from $(basename "$NDJSON")"
    # Best effort: Discover opens on this data view. Not fatal (an older Kibana lacks the API).
    code=$(http POST "$base/api/data_views/default" -H 'kbn-xsrf: true' \
        -H 'Content-Type: application/json' \
        --data-binary "{\"data_view_id\":\"$DATA_VIEW_ID\",\"force\":true}")
    [ "$code" = 200 ] || say "note: could not make $DATA_VIEW_ID the default data view (HTTP $code)"
    say "dashboard: $KIBANA_URL/app/dashboards#/view/lc-dashboard (\"logclassify: server-logs-status\")"
}

case "${1:-all}" in
    template) put_template ;;
    kibana) import_kibana ;;
    all) put_template; import_kibana ;;
    -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown mode '$1' (template, kibana or all)" ;;
esac
