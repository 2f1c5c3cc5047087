#!/usr/bin/env bash
# Benchmarks: segment side by side with what a store would do instead, on the
# same data in one run.  Run as root on Debian 12:
#
#   bash test/bench/run.sh [scale ...]      (default 0.01; 1 = a million customers)
#
# Every figure is a median of 3 runs after a warm-up, timed inside the server.
# Ratios are printed, never asserted: timings decide no test.  The run fails
# only if a scenario errors or segment's result differs from its peer's.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${PGHOST:-}" ]; then
    bash scripts/setup.sh >/dev/null
    exec pg_virtualenv -v 15 -o 'shared_buffers=1GB' -o 'work_mem=64MB' \
        -o 'maintenance_work_mem=256MB' -o 'max_wal_size=4GB' -o 'synchronous_commit=on' \
        bash "$0" "$@"
fi

scales=("${@:-0.01}")
export PGOPTIONS='-c client_min_messages=warning'
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# The backend's peak resident memory (VmHWM) after running a statement in a
# fresh session.
peak_mb() {
    psql -X -q -A -t -v ON_ERROR_STOP=1 <<SQL | awk '/VmHWM/ { printf "%.0f", $2 / 1024 }'
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_BACKEND :pid
$1;
\! grep VmHWM /proc/\$BENCH_BACKEND/status
SQL
}

record() {  # scale scenario what segment_ms peer peer_ms target met-expression note
    sql -c "INSERT INTO results.runs VALUES ($1, '$2', \$\$$3\$\$, $4, \$\$$5\$\$, $6, '$7', $8, \$\$$9\$\$)"
}
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }

sql -c "DROP SCHEMA IF EXISTS results CASCADE; CREATE SCHEMA results;
        CREATE TABLE results.runs (scale numeric, scenario text, what text, segment_ms double precision,
                                   peer text, peer_ms double precision, target text, met boolean, note text)"

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "== $(sql -c 'SELECT version()')"
echo "== settings: $(sql -c "SELECT string_agg(name || '=' || setting || COALESCE(unit, ''), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'synchronous_commit', 'jit')")"

for scale in "${scales[@]}"; do
    echo "== scale $scale: generating the store"
    sql -v scale="$scale" -f test/bench/generate.sql >/dev/null
    sql -f test/bench/bench.sql
    sql -f test/bench/segments.sql >/dev/null
    sql -f test/bench/matviews.sql
    customers=$(sql -c 'SELECT count(*) FROM shop.customers')
    orders=$(sql -c 'SELECT count(*) FROM shop.orders')
    echo "   $customers customers, $orders orders, $(sql -c 'SELECT count(*) FROM segment.segments') segments"

    # Correctness first: each segment equals its hand-written query.
    bad=$(sql -c 'SELECT string_agg(segment, $$, $$) FROM mv.disagreements WHERE differing > 0')
    if [ -n "$bad" ]; then
        echo "segment and the plain queries disagree on: $bad"
        exit 1
    fi

    echo "== B1 full refresh"
    seg=$(sql -c "SELECT bench.median_ms(\$\$SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')\$\$)")
    empty=$(sql -c "SELECT bench.median_ms(\$\$TRUNCATE segment.membership; SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')\$\$, undo => true)")
    mv=$(sql -c 'SELECT bench.median_ms($$SELECT mv.refresh_all()$$)')
    ctas=$(sql -c 'SELECT bench.median_ms($$SELECT mv.create_tables_as()$$, undo => true)')
    record "$scale" B1 'refresh 18 segments, no change since last' "$seg" 'REFRESH MATERIALIZED VIEW x18' "$mv" '<= 0.5' "$seg <= 0.5 * $mv" "CREATE TABLE AS x18: ${ctas} ms"
    record "$scale" B1 'refresh 18 segments into empty membership' "$empty" 'REFRESH MATERIALIZED VIEW x18' "$mv" '<= 0.5' "$empty <= 0.5 * $mv" "peak backend memory: $(peak_mb "SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')") MB"

    echo "== B5 RFM"
    sql -c "SELECT segment.rfm_refresh('2026-11-01')" >/dev/null
    rfm=$(sql -c "SELECT bench.median_ms(\$\$SELECT segment.rfm_refresh('2026-11-01')\$\$)")
    values="SELECT customer_id, floor(extract(epoch FROM timestamptz '2026-11-01' - max(placed_at)) / 86400) AS r,
                   count(*) AS f, sum(total) AS m
              FROM shop.orders
             WHERE placed_at > timestamptz '2026-11-01' - interval '365 days' AND placed_at <= '2026-11-01'
             GROUP BY customer_id"
    quantile=$(sql -c "SELECT bench.median_ms(\$\$CREATE TABLE bench.rfm_quantile AS
        WITH v AS ($values),
        cut AS (SELECT percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY r) AS r,
                       percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY f) AS f,
                       percentile_cont(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY m) AS m FROM v)
        SELECT v.customer_id,
               CASE WHEN v.r <= cut.r[1] THEN 5 WHEN v.r <= cut.r[2] THEN 4 WHEN v.r <= cut.r[3] THEN 3
                    WHEN v.r <= cut.r[4] THEN 2 ELSE 1 END AS r,
               CASE WHEN v.f <= cut.f[1] THEN 1 WHEN v.f <= cut.f[2] THEN 2 WHEN v.f <= cut.f[3] THEN 3
                    WHEN v.f <= cut.f[4] THEN 4 ELSE 5 END AS f,
               CASE WHEN v.m <= cut.m[1] THEN 1 WHEN v.m <= cut.m[2] THEN 2 WHEN v.m <= cut.m[3] THEN 3
                    WHEN v.m <= cut.m[4] THEN 4 ELSE 5 END AS m
          FROM v, cut\$\$, undo => true)")
    ntile=$(sql -c "SELECT bench.median_ms(\$\$CREATE TABLE bench.rfm_ntile AS
        WITH v AS ($values)
        SELECT customer_id, 6 - ntile(5) OVER (ORDER BY r, customer_id) AS r,
               ntile(5) OVER (ORDER BY f, customer_id) AS f, ntile(5) OVER (ORDER BY m, customer_id) AS m
          FROM v\$\$, undo => true)")
    best=$(calc "($quantile < $ntile) ? $quantile : $ntile")
    record "$scale" B5 'rfm_refresh()' "$rfm" 'percentile_cont + CASE; NTILE(5)' "$best" '<= 1.0' "$rfm <= $best" "quantile SQL ${quantile} ms, NTILE ${ntile} ms; peak backend memory: $(peak_mb "SELECT segment.rfm_refresh('2026-11-01')") MB"

    echo "== B4 the clock"
    tick=$(sql -c "SELECT bench.median_ms(\$\$SELECT count(*) FROM segment.tick('2026-11-02')\$\$, undo => true)")
    full=$(sql -c "SELECT bench.median_ms(\$\$SELECT count(*) FROM segment.refresh(as_of => '2026-11-02')\$\$, undo => true)")
    differ=$(sql <<'SQL' | tail -1
BEGIN;
SELECT count(*) FROM segment.tick('2026-11-02') \g /dev/null
SELECT count(*) FROM segment.verify('2026-11-02');
ROLLBACK;
SQL
)
    if [ "$differ" != "0" ]; then
        echo "tick and a full refresh disagree on $differ memberships"
        exit 1
    fi
    revisited=$(sql <<'SQL' | tail -1
BEGIN;
SELECT max(revisited) FROM segment.tick('2026-11-02');
ROLLBACK;
SQL
)
    record "$scale" B4 "tick() one day later (revisits ${revisited:-0} customers)" "$tick" 'full refresh, same as_of' "$full" '>= 10x faster' "$tick * 10 <= $full" 'identical membership'

    echo "== B6 lookups"
    sql -c "CREATE TABLE bench.plain_members AS SELECT segment, customer_id::bigint FROM segment.members;
            ALTER TABLE bench.plain_members ADD PRIMARY KEY (segment, customer_id);
            CREATE INDEX ON bench.plain_members (customer_id); ANALYZE bench.plain_members;"
    im=$(sql -c "SELECT bench.p50_call_ms(\$\$SELECT segment.is_member(\$1, 'loyal')\$\$)")
    pim=$(sql -c "SELECT bench.p50_call_ms(\$\$SELECT EXISTS (SELECT 1 FROM bench.plain_members WHERE segment = 'loyal' AND customer_id = \$1)\$\$)")
    so=$(sql -c "SELECT bench.p50_call_ms(\$\$SELECT segment.segments_of(\$1)\$\$)")
    pso=$(sql -c "SELECT bench.p50_call_ms(\$\$SELECT array_agg(segment ORDER BY segment) FROM bench.plain_members WHERE customer_id = \$1\$\$)")
    record "$scale" B6 'is_member(c, s), p50' "$im" 'indexed table lookup' "$pim" 'p50 <= 0.05 ms' "$im <= 0.05" ''
    record "$scale" B6 'segments_of(c), p50' "$so" 'indexed table lookup' "$pso" 'p50 <= 0.05 ms' "$so <= 0.05" ''

    echo "== B3 COPY of 100,000 orders"
    sql -c "CREATE TABLE bench.orders_plain (LIKE shop.orders INCLUDING ALL);
            ALTER TABLE bench.orders_plain ADD FOREIGN KEY (customer_id) REFERENCES shop.customers;
            COPY (SELECT 2000000000 + g, 1 + (g * 7919) % $customers,
                         timestamptz '2026-10-31' + g * interval '100 ms', 20 + g % 80, 'paid', 'web'
                    FROM generate_series(1, 100000) g) TO '/tmp/segment-bench-orders.csv'"
    copy=$(sql -c "SELECT bench.median_ms(\$\$COPY shop.orders FROM '/tmp/segment-bench-orders.csv'\$\$, undo => true)")
    plain=$(sql -c "SELECT bench.median_ms(\$\$COPY bench.orders_plain FROM '/tmp/segment-bench-orders.csv'\$\$, undo => true)")
    rebuild=$(sql -c "SELECT bench.median_ms(\$\$ALTER TABLE shop.orders DISABLE TRIGGER USER;
        COPY shop.orders FROM '/tmp/segment-bench-orders.csv';
        SELECT count(*) FROM segment.refresh(as_of => '2026-11-01');
        SELECT segment.rfm_refresh('2026-11-01')\$\$, undo => true)")
    record "$scale" B3 'COPY 100,000 orders, 18 segments and RFM maintained' "$copy" 'the same COPY, no triggers' "$plain" '<= 3x' "$copy <= 3 * $plain" "COPY + full refresh + rfm_refresh: ${rebuild} ms"

    echo "== B2 single-row order inserts, 2 clients"
    seconds=$(awk "BEGIN { print ($scale < 0.05) ? 3 : 15 }")
    sql -c "CREATE SEQUENCE bench.order_ids START 3000000000"
    cat > /tmp/segment-bench-insert.sql <<PGB
\\set c random(1, $customers)
INSERT INTO shop.orders VALUES (nextval('bench.order_ids'), :c, now(), 42, 'paid', 'web');
PGB
    sed 's/shop.orders/bench.orders_plain/' /tmp/segment-bench-insert.sql > /tmp/segment-bench-insert-plain.sql
    tps() { pgbench -n -c 2 -j 2 -T "$seconds" -f "$1" 2>/dev/null | awk '/^tps/ { print $3; exit }'; }
    with=$(tps /tmp/segment-bench-insert.sql)
    without=$(tps /tmp/segment-bench-insert-plain.sql)
    # recorded as milliseconds per insert, so that lower is better on both sides
    record "$scale" B2 "order inserts, $with tps" "$(calc "2000 / $with")" "no triggers: $without tps" "$(calc "2000 / $without")" 'tps >= 0.5x' "$with >= 0.5 * $without" "${seconds} s per side; ms = 2 clients / tps"
    # segments with no window: the inserts' now() is their as_of too
    sql -c "SELECT count(*) FROM segment.verify() v WHERE v.segment IN ('small_orders', 'phone_email')" | grep -qx 0 ||
        { echo "membership drifted from a recompute after the inserts"; exit 1; }
done

echo
psql -X -q -P footer=off -c "
SELECT scale, scenario, what, round(segment_ms::numeric, 3) AS segment_ms, peer,
       round(peer_ms::numeric, 3) AS peer_ms,
       round((segment_ms / NULLIF(peer_ms, 0))::numeric, 3) AS ratio, target,
       CASE WHEN met THEN 'met' ELSE 'missed' END AS result, note
  FROM results.runs ORDER BY scale, scenario, what"
