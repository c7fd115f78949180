#!/usr/bin/env bash
# once-only
# MySQL stopped while running: classification goes on with the last snapshot (labels still
# equal the truth), the outage is logged once; when MySQL is back, a change to the users
# table is picked up at the next refresh.
. "$(dirname "$0")/lib.sh"
restart_mysql() { "$ROOT/scripts/mariadb.sh" start >/dev/null; }
trap 'restart_mysql; cleanup' EXIT
N=${N:-60000}
topics 4
load_users 13 10000
produce 13 "$N" -r 30000
REFRESH_S=1 write_config "$T/app.yaml"
start_lc "$T/app.yaml"
wait_ready 0
"$ROOT/scripts/mariadb.sh" stop >/dev/null
log "MySQL stopped after $(output_count) output records"
wait_output "$N" 300
[ "$(grep -c 'refresh failed' "$T/lc.0.err")" -eq 1 ] || fail "the outage should be logged exactly once"
verify --truth "$T/truth.json" --fault "mysql-stop-$(mode_tag)" --injected 1 || fail "wrong labels during the MySQL outage"

restart_mysql
mysql_admin dim_users -e "UPDATE users SET user_device='PICKUP-DEVICE' WHERE account_no=7"
before=$(grep -c 'users: refreshed' "$T/lc.0.err" || true)
until [ "$(grep -c 'users: refreshed' "$T/lc.0.err" || true)" -ge $((before + 2)) ]; do sleep 0.5; done
log "refreshed after MySQL came back"
printf '%s\n' \
  'p1|{"event_id":"e1","account_id":"7","event_type":"login","device":"pickup-device","location_country":"FR","event_timestamp":"1619724510"}' \
  'p2|{"event_id":"e2","account_id":"7","event_type":"login","device":"NOT-IT","location_country":"FR","event_timestamp":"1619724510"}' \
  | kcat -P -b "$BROKERS" -t "$IN_TOPIC" -K '|'
wait_output $((N + 2)) 60
kcat -C -b "$BROKERS" -t "$OUT_TOPIC" -e -q -f '%k %s\n' | grep -E '^p[12] ' >"$T/pickup.txt"
grep -q '^p1 .*"status":"good"' "$T/pickup.txt" || { cat "$T/pickup.txt"; fail "the new device was not picked up"; }
grep -q '^p2 .*"status":"suspicious","reasons":\["device_mismatch"\]' "$T/pickup.txt" || fail "old rule still applied"
stop_lc "$LC_PID"
assert_clean_logs
echo "result: PASS"
