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
status=0
runuser -u postgres -- env -C "$work/src" \
    pg_virtualenv -v 15 make -s installcheck PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config || status=$?

if [ $status -ne 0 ]; then
    for f in "$work"/src/regression.diffs "$work"/src/output_iso/regression.diffs; do
        [ -s "$f" ] && { echo "== $f"; cat "$f"; }
    done
    for f in "$work"/src/tmp_check/log/*; do
        [ -f "$f" ] && { echo "== $f"; tail -n 50 "$f"; }
    done
    echo "FAILED"
    exit $status
fi
echo "all test suites passed"
