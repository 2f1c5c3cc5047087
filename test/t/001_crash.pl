# A crash (pg_ctl stop -m immediate) in the middle of a refresh and in the
# middle of maintenance loses nothing and doubles nothing: after restart the
# membership equals a recompute, and the change log replays to it exactly.
# The clock's store, unlogged, is empty after a crash and built again.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
    CREATE EXTENSION segment;
    CREATE SCHEMA shop;
    CREATE TABLE shop.customers (id bigint PRIMARY KEY);
    CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL,
                              placed_at timestamptz NOT NULL DEFAULT now(), total numeric NOT NULL);
    CREATE INDEX ON shop.orders (customer_id);
    INSERT INTO shop.customers SELECT generate_series(1, 20000);
    INSERT INTO shop.orders (customer_id, total) SELECT g % 20000 + 1, g % 97 FROM generate_series(1, 60000) g;
    SELECT segment.track_customers('shop.customers');
    SELECT segment.track_orders('shop.orders', time_column => 'placed_at');
    SELECT segment.define('busy', 'orders() >= 4');
    SELECT segment.define('big', 'spent() >= 150', mode => 'manual');
});

# replaying the change log gives the stored membership
my $replay_check = q{
    WITH last AS (SELECT DISTINCT ON (segment, customer_id) segment, customer_id, kind
                    FROM segment.changes ORDER BY segment, customer_id, id DESC),
    replayed AS (SELECT segment, customer_id FROM last WHERE kind = 'enter')
    SELECT count(*) FROM (
        (SELECT segment, customer_id FROM segment.members EXCEPT SELECT * FROM replayed)
        UNION ALL
        (SELECT * FROM replayed EXCEPT SELECT segment, customer_id FROM segment.members)) d};

is($node->safe_psql('postgres', $replay_check), '0', 'change log replays to membership before the crashes');
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes');

# 1. a full refresh of a manual segment whose data changed, cut off before commit
$node->safe_psql('postgres', 'UPDATE shop.orders SET total = total + 50 WHERE customer_id % 3 = 0');
my $refresh = $node->background_psql('postgres', on_error_stop => 0);
$refresh->query_until(qr/started/, q{
    BEGIN;
    SELECT members FROM segment.refresh('big');
    \echo started
});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes'), $before,
   'an uncommitted refresh leaves no change behind');
is($node->safe_psql('postgres', $replay_check), '0', 'change log still replays to membership');
$node->safe_psql('postgres', q{SELECT segment.refresh('big')});
is($node->safe_psql('postgres', 'SELECT count(*) FROM segment.verify()'), '0',
   'after a completed refresh, membership equals a recompute');

# 2. maintenance inside an order insert, cut off before commit
$before = $node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes');
my $insert = $node->background_psql('postgres', on_error_stop => 0);
$insert->query_until(qr/inserted/, q{
    BEGIN;
    INSERT INTO shop.orders (customer_id, total) SELECT g, 1 FROM generate_series(1, 20000) g;
    \echo inserted
});
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes'), $before,
   'an uncommitted insert leaves no change behind');
is($node->safe_psql('postgres', q{SELECT count(*) FROM segment.verify() WHERE segment = 'busy'}), '0',
   'incremental membership equals a recompute after the crash');

# 3. a committed insert survives the crash, with its changes logged once
$node->safe_psql('postgres',
    'INSERT INTO shop.orders (customer_id, total) SELECT g, 1 FROM generate_series(1, 20000, 7) g');
my $logged = $node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes');
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes'), $logged,
   'committed changes are all there, none doubled');
is($node->safe_psql('postgres', q{SELECT count(*) FROM segment.verify() WHERE segment = 'busy'}), '0',
   'membership equals a recompute');
is($node->safe_psql('postgres', $replay_check), '0', 'change log replays to membership');

# 4. the clock's store is unlogged derived data: empty after a crash, and
#    built again by the next tick, which still equals a recompute
$node->safe_psql('postgres', q{SELECT segment.define('recent', 'orders(last 30 days) >= 3')});
$node->safe_psql('postgres', 'SELECT count(*) FROM segment.tick()');
is($node->safe_psql('postgres', 'SELECT count(*) FROM segment.clock_store'), '1', 'a tick keeps the clock store');
$node->stop('immediate');
$node->start;
is($node->safe_psql('postgres',
                    'SELECT (SELECT count(*) FROM segment.clock_store) + (SELECT count(*) FROM segment.clock_features)'
                    . ' + (SELECT count(*) FROM segment.clock_stale)'),
   '0', 'the clock store is empty after the crash');
my $later = $node->safe_psql('postgres', q{SELECT (now() + interval '40 days')::text});
$node->safe_psql('postgres', qq{SELECT count(*) FROM segment.tick('$later')});
is($node->safe_psql('postgres', q{SELECT count(*) FROM segment.clock_features f
                     WHERE NOT EXISTS (SELECT 1 FROM segment.clock_stale s WHERE s.customer_id = f.customer_id)}),
   $node->safe_psql('postgres', q{SELECT count(DISTINCT customer_id) FROM shop.orders}),
   'the next tick builds it again');
is($node->safe_psql('postgres', qq{SELECT count(*) FROM segment.verify('$later') WHERE segment <> 'big'}), '0',
   'the clock after the crash gives what a recompute gives');

$node->stop;
done_testing();
