# pg_dump and restore keep segments, membership, the change log, groups and
# tags, and the restored database goes on maintaining membership with no
# manual step: rules are stored as text and tables by name.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
    CREATE EXTENSION segment;
    CREATE SCHEMA shop;
    CREATE TABLE shop.customers (id integer PRIMARY KEY, city text);
    CREATE TABLE shop.orders (id bigserial PRIMARY KEY, customer_id integer NOT NULL,
                              placed_at timestamptz NOT NULL DEFAULT now(), total numeric NOT NULL);
    CREATE INDEX ON shop.orders (customer_id);
    INSERT INTO shop.customers SELECT g, CASE WHEN g % 2 = 0 THEN 'Skopje' ELSE 'Warsaw' END
      FROM generate_series(1, 100) g;
    INSERT INTO shop.orders (customer_id, total) SELECT g % 100 + 1, 40 FROM generate_series(1, 300) g;
    SELECT segment.track_customers('shop.customers');
    SELECT segment.track_orders('shop.orders', time_column => 'placed_at');
    SELECT segment.create_group('staff');
    SELECT segment.add_to_group('staff', 7);
    SELECT segment.tag(8, 'vip');
    SELECT segment.define('skopje_big', $$city = 'Skopje' AND spent(last 30 days) >= 120$$);
    SELECT segment.define('special', $$in_group('staff') OR tagged('vip') OR in_segment('skopje_big')$$);
});

my $query = q{SELECT segment, count(*) FROM segment.members GROUP BY 1 ORDER BY 1};
my $members = $node->safe_psql('postgres', $query);
my $changes = $node->safe_psql('postgres', 'SELECT count(*) FROM segment.changes');

my $dump = $node->basedir . '/dump.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('restored'), '-f', $dump ],
                  'restore');

is($node->safe_psql('restored', $query), $members, 'membership restored');
is($node->safe_psql('restored', 'SELECT count(*) FROM segment.changes'), $changes, 'change log restored');
is($node->safe_psql('restored', 'SELECT count(*) FROM segment.verify()'), '0', 'restored membership equals a recompute');

# maintenance goes on: triggers came back with the tables
$node->safe_psql('restored', 'INSERT INTO shop.orders (customer_id, total) VALUES (3, 500)');
is($node->safe_psql('restored', q{SELECT segment.is_member(3, 'special')}), 'f', 'a Warsaw order does not make a Skopje member');
$node->safe_psql('restored', 'INSERT INTO shop.orders (customer_id, total) VALUES (4, 500)');
is($node->safe_psql('restored', q{SELECT segment.is_member(4, 'skopje_big') AND segment.is_member(4, 'special')}), 't',
   'triggers maintain the restored segments');
is($node->safe_psql('restored', 'SELECT count(*) FROM segment.verify()'), '0', 'and membership equals a recompute');

# new segments get fresh ids after the restored ones
$node->safe_psql('restored', q{SELECT segment.define('all', 'spent() >= 0')});
is($node->safe_psql('restored', q{SELECT count(*) FROM segment.members WHERE segment = 'all'}), '100', 'define works after restore');

$node->stop;
done_testing();
