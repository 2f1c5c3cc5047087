#!/usr/bin/env bash
# Benchmarks: segment side by side with what a store would do instead, on the
# same data in one run.  Run as root on Debian 12:
#
#   bash test/bench/run.sh [scale ...]      (default 0.01; 1 = a million customers)
#
# Every figure is a median of 3 runs after a warm-up, timed inside the server
# (pgbench's throughput for B2).  Ratios are printed, never asserted: timings
# decide no test.  The run fails only if a scenario errors or segment's result
# differs from its peer's (the segments against the hand-written queries,
# tick() against a full refresh, membership against a recompute after B2).
#
# Optional environment:
#   BENCH_EXPLAIN_DIR=dir  also write the plans (auto_explain, with ANALYZE and
#                          BUFFERS) of a full refresh's statements, one file per scale
#   BENCH_MARKDOWN=file    also write the results as a markdown table
#   BENCH_SCENARIOS="B1 B5" run only these scenarios (e.g. at scale 1, where
#                          the whole set takes about an hour on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."

# One throw-away cluster for every scale; the same settings for both sides of
# every comparison.  pg_virtualenv runs the server as postgres and sets
# PGHOST/PGPORT/... for the command, which is this script again; -t keeps the
# cluster in a temporary directory, so that a run can go on beside the test
# suite's cluster (both are named 15/regress).
if [ -z "${PGHOST:-}" ]; then
    bash scripts/setup.sh >/dev/null
    exec pg_virtualenv -t -v 15 -o 'shared_buffers=1GB' -o 'work_mem=64MB' \
        -o 'maintenance_work_mem=256MB' -o 'max_wal_size=4GB' -o 'synchronous_commit=on' \
        bash "$0" "$@"
fi

scales=("${@:-0.01}")
export PGOPTIONS='-c client_min_messages=warning'
work=$(mktemp -d /tmp/segment-bench.XXXXXX)
chown postgres "$work"       # the server (user postgres) writes and reads the COPY file
current='setup'
# say which scenario failed: set -e alone exits without a word
trap 'status=$?; rm -rf "$work"; [ $status -eq 0 ] || echo "bench: failed in $current" >&2' EXIT

sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
calc() { awk "BEGIN { printf \"%.4f\", $1 }"; }
# median over bench.median_ms(): statement text passed through dollar quotes
median_ms() { sql -c "CALL bench.median_ms(\$bench\$$1\$bench\$, ${2:-undo => false})"; }

# record scale scenario what segment_ms peer peer_ms target met-expression note
# The ratio printed is always segment / peer (of times: lower is better), so
# every target is an upper bound on it, except B6's absolute latency.
record() {
    sql -c "INSERT INTO results.runs VALUES ($1, '$2', \$\$$3\$\$, $4, \$\$$5\$\$, $6, \$\$$7\$\$, $8, \$\$$9\$\$)"
}

# The backend's peak resident memory (VmHWM) after one statement in a fresh
# session.  VmHWM counts the pages of shared_buffers the backend touched as
# well, so the shared part (RssShmem at the end, an upper bound of it at the
# peak) is printed beside it.
peak_memory() {
    sql <<SQL | awk '/VmHWM/ { hwm = $2 } /RssShmem/ { shm = $2 }
                     END { printf "%.0f MB (%.0f MB of it shared buffers)", hwm / 1024, shm / 1024 }'
SELECT pg_backend_pid() AS pid \gset
\setenv BENCH_BACKEND :pid
$1;
\! grep -E 'VmHWM|RssShmem' /proc/\$BENCH_BACKEND/status
SQL
}

describe_machine() {
    echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
    echo "== $(sql -c 'SELECT version()')"
    echo "== settings: $(sql -c "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name)
                                   FROM pg_settings
                                  WHERE name IN ('shared_buffers', 'work_mem', 'maintenance_work_mem',
                                                 'max_parallel_workers_per_gather', 'synchronous_commit', 'jit')")"
}

# The store, segment with the 16 cases, the same cases as materialized views,
# and the check that both agree before anything is timed.
prepare_scale() {
    local started=$SECONDS
    echo "== scale $scale: generating the store"
    sql -v scale="$scale" -f test/bench/generate.sql >/dev/null
    echo "   generated in $((SECONDS - started)) s"
    sql -f test/bench/bench.sql
    sql -f test/bench/segments.sql >/dev/null
    sql -f test/bench/matviews.sql
    customers=$(sql -c 'SELECT count(*) FROM shop.customers')
    echo "   $customers customers, $(sql -c 'SELECT count(*) FROM shop.orders') orders," \
         "$(sql -c 'SELECT count(*) FROM shop.order_items') items," \
         "$(sql -c 'SELECT count(*) FROM shop.email_events') events," \
         "$(sql -c 'SELECT count(*) FROM segment.segments') segments, ready after $((SECONDS - started)) s"

    local bad
    bad=$(sql -c 'SELECT string_agg(segment, $$, $$) FROM mv.disagreements WHERE differing > 0')
    if [ -n "$bad" ]; then
        echo "segment and the plain queries disagree on: $bad" >&2
        exit 1
    fi
}

# B1: the 16 cases recomputed in full, against 18 materialized views.
bench_b1() {
    current="B1 at scale $scale"; echo "== $current: full refresh"
    local seg empty mv ctas memory
    # nothing changed since the last refresh: the engine writes no difference
    seg=$(median_ms "SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')")
    # empty membership: every member is written and logged, as a REFRESH does
    empty=$(median_ms "TRUNCATE segment.membership; SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')" 'undo => true')
    mv=$(median_ms 'SELECT mv.refresh_all()')
    ctas=$(median_ms 'SELECT mv.create_tables_as()' 'undo => true')
    memory=$(peak_memory "SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')")
    record "$scale" B1 'refresh 18 segments, no change since last' "$seg" 'REFRESH MATERIALIZED VIEW x18' "$mv" \
        'ratio <= 0.5' "$seg <= 0.5 * $mv" "CREATE TABLE AS x18: ${ctas} ms; peak backend memory ${memory}"
    record "$scale" B1 'refresh 18 segments into empty membership' "$empty" 'REFRESH MATERIALIZED VIEW x18' "$mv" \
        'ratio <= 0.5' "$empty <= 0.5 * $mv" "ratio to CREATE TABLE AS: $(calc "$empty / $ctas")"
    at_november=$scale
}

# B5: RFM scoring a day after the last, as a nightly job does, against the
# two ways to write it by hand, each writing its result into a table as
# rfm_refresh() does.  Each run commits, as the job does, and scores one day
# after the run before (from 2026-11-02 on: rfm_thresholds has the last
# refresh's time); beside it, the same refresh reading every order of the
# window (no stored values to move).  Not rolled back: a run inside the
# transaction that rolled back the one before meets every row version it
# left, and took twice as long.
bench_b5() {
    current="B5 at scale $scale"; echo "== $current: RFM"
    if [ "$(sql -c "SELECT to_regprocedure('segment.rfm_refresh(timestamptz)') IS NOT NULL")" != t ]; then
        record "$scale" B5 'rfm_refresh(): not available' NULL 'percentile_cont + CASE; NTILE(5)' NULL \
            'ratio <= 1.0' NULL 'segment.rfm_refresh does not exist in this build'
        return
    fi
    local values rfm full quantile ntile best memory
    sql -c "SELECT segment.rfm_refresh('2026-11-01')" >/dev/null
    local next_day="(SELECT max(as_of) FROM segment.rfm_thresholds) + interval '1 day'"
    rfm=$(median_ms "SELECT segment.rfm_refresh($next_day)")
    full=$(median_ms "DELETE FROM segment.rfm_store; SELECT segment.rfm_refresh($next_day)")
    # recency in days, frequency and money over the last 365 days
    values="SELECT customer_id, floor(extract(epoch FROM timestamptz '2026-11-02' - max(placed_at)) / 86400) AS r,
                   count(*) AS f, sum(total) AS m
              FROM shop.orders
             WHERE placed_at > timestamptz '2026-11-02' - interval '365 days' AND placed_at <= '2026-11-02'
             GROUP BY customer_id"
    quantile=$(median_ms "CREATE TABLE bench.rfm_quantile AS
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
          FROM v, cut" 'undo => true')
    ntile=$(median_ms "CREATE TABLE bench.rfm_ntile AS
        WITH v AS ($values)
        SELECT customer_id, 6 - ntile(5) OVER (ORDER BY r, customer_id) AS r,
               ntile(5) OVER (ORDER BY f, customer_id) AS f, ntile(5) OVER (ORDER BY m, customer_id) AS m
          FROM v" 'undo => true')
    best=$(calc "($quantile < $ntile) ? $quantile : $ntile")
    memory=$(peak_memory "SELECT segment.rfm_refresh($next_day)")
    record "$scale" B5 'rfm_refresh() a day after the last' "$rfm" 'the faster of percentile_cont + CASE, NTILE(5)' "$best" \
        'ratio <= 1.0' "$rfm <= $best" \
        "reading every order instead: ${full} ms; percentile_cont ${quantile} ms, NTILE ${ntile} ms; peak backend memory ${memory}"
}

# B4: the clock one day after the refresh at 2026-11-01, against a full
# refresh at the same time; both undone after each run.  Membership after the
# tick must equal a recompute: that is checked, not just timed.
bench_b4() {
    current="B4 at scale $scale"; echo "== $current: the clock"
    local tick full differ revisited
    bring_to_november
    tick=$(median_ms "SELECT count(*) FROM segment.tick('2026-11-02')" 'undo => true')
    full=$(median_ms "SELECT count(*) FROM segment.refresh(as_of => '2026-11-02')" 'undo => true')
    differ=$(sql <<'SQL' | tail -1
BEGIN;
SELECT count(*) FROM segment.tick('2026-11-02') \g /dev/null
SELECT count(*) FROM segment.verify('2026-11-02');
ROLLBACK;
SQL
)
    if [ "$differ" != "0" ]; then
        echo "tick and a full refresh disagree on $differ memberships" >&2
        exit 1
    fi
    revisited=$(sql <<'SQL' | tail -1
BEGIN;
SELECT max(revisited) FROM segment.tick('2026-11-02');
ROLLBACK;
SQL
)
    record "$scale" B4 "tick() one day later (revisits ${revisited:-0} customers)" "$tick" 'full refresh, same as_of' "$full" \
        'ratio <= 0.1 (10x faster)' "$tick * 10 <= $full" 'membership identical to the full refresh (verify: 0 rows)'
}

# B6: lookups for apps, against a plain table with a primary key.  Each
# side's figure is its p50 after a warm-up pass over the same customers; the
# p50 of that first pass (each customer's pages met for the first time) is
# printed beside it.
p50() { sql -F ' ' -c "SELECT p[2], p[1] FROM bench.p50_call_ms(\$\$$1\$\$) p"; }
bench_b6() {
    current="B6 at scale $scale"; echo "== $current: lookups"
    local im im1 pim pim1 so so1 pso pso1
    sql -c "CREATE TABLE bench.plain_members AS SELECT segment, customer_id::bigint FROM segment.members;
            ALTER TABLE bench.plain_members ADD PRIMARY KEY (segment, customer_id);
            CREATE INDEX ON bench.plain_members (customer_id); ANALYZE bench.plain_members;"
    read -r im im1 < <(p50 "SELECT segment.is_member(\$1, 'loyal')")
    read -r pim pim1 < <(p50 "SELECT EXISTS (SELECT 1 FROM bench.plain_members WHERE segment = 'loyal' AND customer_id = \$1)")
    read -r so so1 < <(p50 "SELECT segment.segments_of(\$1)")
    read -r pso pso1 < <(p50 "SELECT array_agg(segment ORDER BY segment) FROM bench.plain_members WHERE customer_id = \$1")
    record "$scale" B6 'is_member(c, s), p50' "$im" 'indexed table lookup' "$pim" 'p50 <= 0.05 ms' "$im <= 0.05" \
        "1,900 calls after a warm-up pass; first pass: $im1 ms, table $pim1 ms"
    record "$scale" B6 'segments_of(c), p50' "$so" 'indexed table lookup' "$pso" 'p50 <= 0.05 ms' "$so <= 0.05" \
        "1,900 calls after a warm-up pass; first pass: $so1 ms, table $pso1 ms"
}

# B3 and B2 write orders at the wall clock's time, and the maintenance they
# set off evaluates at now().  The generated data ends on 2026-11-01, so the
# store is first brought to now, as a live store's segments and scores are:
# evaluated weeks later than they were stored, every customer an order
# touches would also leave its 30-day segments, and the figure would depend
# on the day of the run.  Once per scale.
at_now=
bring_to_now() {
    [ "$at_now" = "$scale" ] && return 0
    echo "   bringing segments and RFM scores to now"
    sql -c "SELECT count(*) FROM segment.refresh(as_of => now())" >/dev/null
    sql -c "SELECT segment.rfm_refresh(now())" >/dev/null
    at_now=$scale
    at_november=
}

# B4's tick starts from membership and the clock's store as of 2026-11-01,
# as B1 leaves them; without B1 (BENCH_SCENARIOS=B4), they are brought
# there first, or the tick would be timed building the store.
at_november=
bring_to_november() {
    [ "$at_november" = "$scale" ] && return 0
    echo "   bringing segments and the clock's store to 2026-11-01"
    sql -c "SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')" >/dev/null
    at_november=$scale
}

# B3: one COPY of 100,000 orders of the last few hours (spread over every
# customer, at most 100,000 of them), each run rolled back, against the same
# COPY into an untracked copy of the table, and against COPY with triggers
# off + full recompute.
bench_b3() {
    current="B3 at scale $scale"; echo "== $current: COPY of 100,000 orders"
    local copy plain rebuild
    bring_to_now
    sql -c "CREATE TABLE bench.orders_plain (LIKE shop.orders INCLUDING ALL);
            ALTER TABLE bench.orders_plain ADD FOREIGN KEY (customer_id) REFERENCES shop.customers;
            COPY (SELECT 2000000000 + g, 1 + (g * 7919) % $customers,
                         now() - interval '3 hours' + g * interval '100 ms', 20 + g % 80, 'paid', 'web'
                    FROM generate_series(1, 100000) g) TO '$work/orders.csv'"
    copy=$(median_ms "COPY shop.orders FROM '$work/orders.csv'" 'undo => true')
    plain=$(median_ms "COPY bench.orders_plain FROM '$work/orders.csv'" 'undo => true')
    # with the triggers off, RFM's stored values must be read again (README)
    rebuild=$(median_ms "ALTER TABLE shop.orders DISABLE TRIGGER USER;
        COPY shop.orders FROM '$work/orders.csv';
        SELECT count(*) FROM segment.refresh(as_of => now());
        DELETE FROM segment.rfm_store;
        SELECT segment.rfm_refresh(now())" 'undo => true')
    record "$scale" B3 'COPY 100,000 orders, 18 segments and RFM maintained' "$copy" 'the same COPY, no triggers' "$plain" \
        'ratio <= 3' "$copy <= 3 * $plain" "COPY with triggers off + full refresh + rfm_refresh: ${rebuild} ms"
}

# Median tps of 3 pgbench runs after a warm-up run.
median_tps() {
    local script=$1 seconds=$2 runs=() out
    for i in 0 1 2 3; do
        out=$(pgbench -n -c 2 -j 2 -T "$seconds" -f "$script" 2>&1) ||
            { echo "$out" >&2; return 1; }
        [ "$i" -eq 0 ] || runs+=("$(awk '/^tps/ { print $3; exit }' <<<"$out")")
    done
    printf '%s\n' "${runs[@]}" | sort -g | sed -n 2p
}

# B2: single-row order inserts from 2 clients, with the 18 segments and RFM
# maintained in each insert's transaction, against an untracked copy.
bench_b2() {
    current="B2 at scale $scale"; echo "== $current: single-row order inserts, 2 clients"
    local seconds with without
    bring_to_now
    seconds=$(awk "BEGIN { print ($scale < 0.05) ? 2 : 10 }")
    sql -c "CREATE SEQUENCE bench.order_ids START 3000000000"
    cat > "$work/insert.sql" <<PGB
\\set c random(1, $customers)
INSERT INTO shop.orders VALUES (nextval('bench.order_ids'), :c, now(), 42, 'paid', 'web');
PGB
    sed 's/shop.orders/bench.orders_plain/' "$work/insert.sql" > "$work/insert-plain.sql"
    with=$(median_tps "$work/insert.sql" "$seconds")
    without=$(median_tps "$work/insert-plain.sql" "$seconds")
    # as milliseconds per insert (2 clients / tps), so lower is better on both
    # sides like everywhere else: tps >= 0.5 x is ratio <= 2
    record "$scale" B2 "order inserts, $with tps" "$(calc "2000 / $with")" "no triggers: $without tps" "$(calc "2000 / $without")" \
        'ratio <= 2 (tps >= 0.5x)' "$with >= 0.5 * $without" "${seconds} s per pgbench run; ms = 2 clients / tps"
    # segments with no time window: the inserts' now() is their as_of too
    sql -c "SELECT count(*) FROM segment.verify() v WHERE v.segment IN ('small_orders', 'phone_email')" | grep -qx 0 ||
        { echo "membership drifted from a recompute after the inserts" >&2; exit 1; }
}

# Where a full refresh spends its time: the plans of the statements
# refresh() runs, as it runs them (with its own settings: JIT off), from
# auto_explain.  Not timed; only with BENCH_EXPLAIN_DIR.
explain_refresh() {
    [ -n "${BENCH_EXPLAIN_DIR:-}" ] || return 0
    current="EXPLAIN at scale $scale"
    mkdir -p "$BENCH_EXPLAIN_DIR"
    # the plans come as notices, which PGOPTIONS above keeps from the client
    sql -c "LOAD 'auto_explain'" -c 'SET client_min_messages = notice' \
        -c 'SET auto_explain.log_min_duration = 100' \
        -c 'SET auto_explain.log_analyze = on' -c 'SET auto_explain.log_buffers = on' \
        -c 'SET auto_explain.log_nested_statements = on' -c 'SET auto_explain.log_level = notice' \
        -c "SELECT count(*) FROM segment.refresh(as_of => '2026-11-01')" \
        2> "$BENCH_EXPLAIN_DIR/refresh-scale-$scale.txt" > /dev/null
}

print_results() {
    echo
    psql -X -q -P footer=off -c "
    SELECT scale, scenario, what, round(segment_ms::numeric, 3) AS segment_ms, peer,
           round(peer_ms::numeric, 3) AS peer_ms,
           round((segment_ms / NULLIF(peer_ms, 0))::numeric, 3) AS ratio, target,
           CASE WHEN met THEN 'met' WHEN met IS NULL THEN 'n/a' ELSE 'missed' END AS result, note
      FROM results.runs ORDER BY scale, scenario, what"
    [ -n "${BENCH_MARKDOWN:-}" ] || return 0
    sql -c "
    SELECT '| scale | scenario | segment (ms) | peer | peer (ms) | segment / peer | target | result | notes |' || chr(10) ||
           '|---|---|---:|---|---:|---:|---|---|---|' || chr(10) ||
           string_agg(format('| %s | %s %s | %s | %s | %s | %s | %s | %s | %s |', scale, scenario, what,
                             round(segment_ms::numeric, 3), peer, round(peer_ms::numeric, 3),
                             round((segment_ms / NULLIF(peer_ms, 0))::numeric, 3), target,
                             CASE WHEN met THEN 'met' WHEN met IS NULL THEN 'n/a' ELSE 'missed' END, note),
                      chr(10) ORDER BY scale, scenario, what)
      FROM results.runs" > "$BENCH_MARKDOWN"
}

sql -c "DROP SCHEMA IF EXISTS results CASCADE; CREATE SCHEMA results;
        CREATE TABLE results.runs (scale numeric, scenario text, what text, segment_ms double precision,
                                   peer text, peer_ms double precision, target text, met boolean, note text)"
describe_machine

# Order matters: B1 leaves membership refreshed at 2026-11-01, which B4's tick
# starts from (bring_to_november when B1 is left out); B3 and B2 bring the
# store, RFM scores included, to now, so they come after the scenarios that
# work at 2026-11-01; B2 comes last because its inserts are kept.
scenarios=" ${BENCH_SCENARIOS:-B1 B5 B4 B6 B3 B2} "
for scale in "${scales[@]}"; do
    prepare_scale
    for b in B1 B5 B4 B6 B3 B2; do
        if [[ $scenarios == *" $b "* ]]; then "bench_${b,,}"; fi
    done
    explain_refresh
done
current='the results'
print_results
