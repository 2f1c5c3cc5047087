#!/usr/bin/env bash
# Runs the pg_regress suite against a server running under Valgrind, and
# fails if Valgrind reports an error in any backend.  Slow (minutes); run as
# root on Debian 12: bash scripts/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

bindir=/usr/lib/postgresql/15/bin
work=$(mktemp -d /tmp/segment-valgrind.XXXXXX)
trap 'runuser -u postgres -- $bindir/pg_ctl -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
cp -a . "$work/src"
chown -R postgres: "$work"
port=55432

as_pg() { runuser -u postgres -- "$@"; }
as_pg $bindir/initdb -D "$work/data" -A trust >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$work'
max_connections = 20
CONF
# the postmaster and every backend it forks run under Valgrind
as_pg bash -c "cd '$work' && nohup valgrind --quiet --trace-children=yes --track-origins=yes \
    --error-exitcode=0 --read-var-info=yes --num-callers=30 \
    --suppressions='$work/src/test/valgrind.supp' \
    --log-file='$work/valgrind.%p.log' \
    $bindir/postgres -D '$work/data' >'$work/server.log' 2>&1 &"
ready=no
for _ in $(seq 1 300); do
    as_pg $bindir/pg_isready -h "$work" -p $port -q && { ready=yes; break; }
    sleep 1
done
if [ $ready != yes ]; then
    echo "the server under Valgrind did not accept connections within 300 s; its log:"
    tail -n 50 "$work/server.log" 2>/dev/null || true
    exit 1
fi

status=0
as_pg env -C "$work/src" PGHOST="$work" PGPORT=$port \
    make -s installcheck ISOLATION= TAP_TESTS= PG_CONFIG=$bindir/pg_config || status=$?
as_pg $bindir/pg_ctl -D "$work/data" -m fast stop >/dev/null || true

# a report starts with "==pid== " and a capital letter; show each with its stack
errors=$(cat "$work"/valgrind.*.log 2>/dev/null | grep -c '^==[0-9]*== [A-Z][a-z]' || true)
grep -h -A 25 '^==[0-9]*== [A-Z][a-z]' "$work"/valgrind.*.log 2>/dev/null || true
if [ $status -ne 0 ]; then
    cat "$work/src/regression.diffs" 2>/dev/null | head -n 100
    echo "the suite failed under Valgrind"
    exit 1
fi
if [ "$errors" != "0" ]; then
    echo "Valgrind reported errors (above)"
    exit 1
fi
echo "the pg_regress suite passed under Valgrind with no errors reported"
