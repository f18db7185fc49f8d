#!/bin/bash
# `knexsafe fix` on a copy of a real chain, then what the fixes left: check --all, verify, a second
# fix (--dry-run: must find nothing), `node --check` on every file fix wrote or changed. The copy's
# knexfile reads DATABASE_URL, set to a fresh database of the server; a file `runfix.env` next to the
# chain's directory may set more (kutt's DB_* variables). Prints the summary lines of each step.
#
#   bash bench/real-chains/fix-then-verify.sh /work/realchains/planka/server /tmp/planka-fix
set -u
SRC=$1; WORK=$2; URL=${KNEXSAFE_BENCH_URL:-postgresql://postgres@127.0.0.1:5432}
KS="node $(cd "$(dirname "$0")/../.." && pwd)/dist/cli/main.js"
rm -rf "$WORK" && cp -a "$SRC" "$WORK" && cd "$WORK" || exit 2
DB=fixbench_$(basename "$WORK" | tr -c 'a-z0-9\n' _)
psql -q "$URL/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" 2>/dev/null
export DATABASE_URL=$URL/$DB
[ -f "$SRC/../runfix.env" ] && . "$SRC/../runfix.env"
SHADOW="--shadow-url $URL/postgres"
echo "== fix";            /usr/bin/time -f "fix took %es, peak %MKB" $KS fix $SHADOW > fix.out 2>&1; echo "exit $?"; grep -E '^(✗|✓|Left alone|fix took)' fix.out
echo "== check --all";    $KS check --all $SHADOW > check.out 2>&1; echo "exit $?"; grep -E '^(✗|✓)' check.out
echo "== verify";         $KS verify $SHADOW > verify.out 2>&1; echo "exit $?"; grep -E '^✗|migrations? verified' verify.out
echo "== fix --dry-run";  $KS fix --dry-run $SHADOW > fix2.out 2>&1; echo "exit $?"; grep -E '^(Nothing|Would)' fix2.out
echo "== node --check on the files fix wrote"
bad=0; n=0
for f in $(diff -rq "$SRC" . 2>/dev/null | grep -v node_modules | sed -nE 's/^Files .* and (.*) differ$/\1/p; s/^Only in (\.[^:]*): (.*\.(c|m)?js)$/\1\/\2/p'); do
  n=$((n + 1)); node --check "$f" || bad=$((bad + 1))
done
echo "$n files, $bad failing"
psql -q "$URL/postgres" -c "DROP DATABASE IF EXISTS $DB" 2>/dev/null
