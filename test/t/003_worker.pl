# With segment in shared_preload_libraries and segment.tick_interval set, a
# background worker runs segment.tick(): an order dated a few seconds ahead
# (ignored when inserted) moves its customer into the segment once its time
# has come, with no one calling tick() by hand.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('worker');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'segment'
segment.tick_interval = 1
segment.database = 'postgres'
});
$node->start;

$node->safe_psql('postgres', q{
    CREATE EXTENSION segment;
    CREATE SCHEMA shop;
    CREATE TABLE shop.customers (id bigint PRIMARY KEY);
    CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL,
                              placed_at timestamptz NOT NULL, total numeric NOT NULL);
    CREATE INDEX ON shop.orders (customer_id);
    INSERT INTO shop.customers VALUES (1), (2);
    SELECT segment.track_customers('shop.customers');
    SELECT segment.track_orders('shop.orders', time_column => 'placed_at');
    SELECT segment.define('buyers', 'orders(last 1 day) >= 1');
    INSERT INTO shop.orders (customer_id, placed_at, total) VALUES (1, now() + interval '3 seconds', 10);
});
is($node->safe_psql('postgres', q{SELECT segment.is_member(1, 'buyers')}), 'f',
   'an order dated ahead does not count yet');
ok($node->poll_query_until('postgres', q{SELECT segment.is_member(1, 'buyers')}),
   'the worker brings the customer in once the order is due');
is($node->safe_psql('postgres', q{SELECT cause FROM segment.changes WHERE customer_id = '1'}), 'clock',
   'the change is logged as caused by the clock');
like($node->safe_psql('postgres', q{SHOW segment.tick_interval}), qr/^1s$/, 'the setting is visible');

# unknown settings under the reserved prefix are refused
my ($ret, $stdout, $stderr) = $node->psql('postgres', q{SET segment.no_such_setting = 1});
like($stderr, qr/invalid configuration parameter name|unrecognized configuration parameter/,
     'the segment. prefix is reserved');

$node->stop;
done_testing();
