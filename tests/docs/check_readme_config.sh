#!/usr/bin/env bash
# The README's configuration table must be exactly what the binary prints with
# --config-reference (the table of keys that parses the file). Part of `make check`
# (`make readme-config`).
#
#   tests/docs/check_readme_config.sh [--update] [BINARY] [README]
#
# BINARY defaults to build/logclassify, README to README.md. The table sits between the
# lines <!-- config-reference:begin --> and <!-- config-reference:end -->. Exit 0 when they
# agree; 1 with a diff (README side first) when they do not; 2 when the markers or the
# binary are missing. --update writes the binary's table between the markers instead.
set -euo pipefail
cd "$(dirname "$0")/../.."

update=0
if [ "${1:-}" = --update ]; then update=1; shift; fi
bin=${1:-build/logclassify}
readme=${2:-README.md}
begin='<!-- config-reference:begin -->'
end='<!-- config-reference:end -->'

[ -x "$bin" ] || { echo "readme-config: $bin is missing (make)" >&2; exit 2; }
nb=$(grep -cxF "$begin" "$readme" || true)
ne=$(grep -cxF "$end" "$readme" || true)
if [ "$nb" != 1 ] || [ "$ne" != 1 ]; then
    echo "readme-config: $readme needs exactly one line '$begin' and one '$end'" >&2
    exit 2
fi

w=$(mktemp -d /tmp/lc-readme.XXXXXX)
trap 'rm -rf "$w"' EXIT
"$bin" --config-reference >"$w/binary.md"
awk -v b="$begin" -v e="$end" '$0 == e {inside = 0} inside {print} $0 == b {inside = 1}' \
    "$readme" >"$w/readme.md"

if [ "$update" = 1 ]; then
    awk -v b="$begin" -v e="$end" -v table="$w/binary.md" '
        $0 == b {print; while ((getline line < table) > 0) print line; skip = 1; next}
        $0 == e {skip = 0}
        !skip {print}' "$readme" >"$w/new"
    cat "$w/new" >"$readme"
    echo "readme-config: $readme updated from $bin --config-reference"
    exit 0
fi

if diff -u --label "$readme (configuration table)" --label "$bin --config-reference" \
        "$w/readme.md" "$w/binary.md"; then
    echo "readme-config: $readme's configuration table matches $bin --config-reference ($(grep -c '^| `' "$w/binary.md") keys)"
    exit 0
fi
echo "readme-config: FAIL: $readme's configuration table differs from $bin --config-reference;" \
     "run tests/docs/check_readme_config.sh --update (after make) and commit the README" >&2
exit 1
