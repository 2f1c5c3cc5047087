#!/usr/bin/env bash
# Sets everything up and runs every test suite (pg_regress, isolation, TAP)
# through `make installcheck` on a throw-away cluster.  Run as root on
# Debian 12.  The server refuses to run as root, so the tests run as the
# postgres user in a copy of the tree that it can write.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

work=$(mktemp -d /tmp/segment-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a . "$work/src"
chown -R postgres: "$work"

echo "== make installcheck"
set +e
runuser -u postgres -- env -C "$work/src" \
    pg_virtualenv -v 15 make -s installcheck PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config \
    2>&1 | tee "$work/installcheck.log"
status=${PIPESTATUS[0]}
set -e

# one line a CI reader can count: pg_regress and isolation cases, TAP files
passed=$(grep -cE '^(test |ok |not ok )?[[:alnum:]_/.]+ +\.\.\.* ok' "$work/installcheck.log" || true)
failed=$(grep -cE '\.\.\.* (FAILED|failed|Dubious)' "$work/installcheck.log" || true)

if [ $status -ne 0 ]; then
    for f in "$work"/src/regression.diffs "$work"/src/output_iso/regression.diffs; do
        [ -s "$f" ] && { echo "== $f"; cat "$f"; }
    done
    for f in "$work"/src/tmp_check/log/*; do
        [ -f "$f" ] && { echo "== $f"; tail -n 50 "$f"; }
    done
    echo "$passed passed, $failed failed"
    exit $status
fi

# The benchmark harness at a tiny scale, as a smoke test: it checks that
# segment and the plain queries agree, never how fast either is.
echo "== benchmark smoke test (scale 0.01)"
if bash test/bench/run.sh 0.01 > "$work/bench.log" 2>&1; then
    tail -n 12 "$work/bench.log"
    passed=$((passed + 1))
else
    cat "$work/bench.log"
    failed=$((failed + 1))
    echo "$passed passed, $failed failed"
    exit 1
fi
echo "$passed passed, $failed failed"
