-- Deterministic generator of a realistic online store in the schema "shop".
--
--   psql -v scale=0.03 -f test/bench/generate.sql      (default scale 0.01)
--
-- Scale 1 is 1,000,000 customers, ~10 orders per customer (heavy-tailed),
-- ~2.5 items per order and ~15 events per customer, over the two years that
-- end at the data's "now", 2026-11-01 00:00:00+00.  Every value comes from a
-- hash of ids (no random()), so one scale gives the same rows on every run.
-- Only the schema "shop" is left behind: helpers live in pg_temp.
-- See test/bench/README.md for the distributions and measured timings.
\set ON_ERROR_STOP on
\if :{?timing}
\timing on
\endif
\if :{?scale}
\else
\set scale 0.01
\endif

SET client_min_messages = warning;
SET timezone = 'UTC';
SET work_mem = '1GB';
SET maintenance_work_mem = '1GB';
SET synchronous_commit = off;
SET jit = off;


DROP TABLE IF EXISTS pg_temp.params, pg_temp.country, pg_temp.city, pg_temp.category, pg_temp.brand, pg_temp.thr,
           pg_temp.prod_tmp, pg_temp.pick, pg_temp.cust_tmp, pg_temp.ord_tmp, pg_temp.ev_plan;
CREATE TEMP TABLE params AS
SELECT s AS scale,
       greatest(1, round(1000000 * s))::int AS n_customers,
       greatest(200, round(2000 * sqrt(s)))::int AS n_products,
       timestamptz '2026-11-01 00:00:00+00' AS now_,
       timestamptz '2024-11-01 00:00:00+00' AS start_
  FROM (SELECT (:'scale')::numeric AS s) x;
DO $$
BEGIN
    IF (SELECT NOT (scale > 0 AND scale <= 100) FROM pg_temp.params) THEN
        RAISE EXCEPTION 'scale must be in (0, 100]';
    END IF;
END $$;

DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;

------------------------------------------------------------------------------
-- Helpers (session-local).
------------------------------------------------------------------------------
-- A uniform draw in [0,1) from a key and a salt.
CREATE OR REPLACE FUNCTION pg_temp.u(k bigint, salt int) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(k, salt) >> 11) & 9007199254740991)::double precision / 9007199254740992.0 $$;
-- The same from a two-part key.
CREATE OR REPLACE FUNCTION pg_temp.u2(k bigint, k2 bigint, salt int) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT ((hashint8extended(k, k2 * 4096 + salt) >> 11) & 9007199254740991)::double precision / 9007199254740992.0 $$;
-- A Zipf-like rank in 1..n (P(r) ~ r^-0.7) from a uniform draw in [0,1)
-- (each argument used once, so that the planner inlines it).
CREATE OR REPLACE FUNCTION pg_temp.zipf(x double precision, n int) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT floor(power(1.0::float8 + 0.9999999::float8 * x * (power(n + 1.0::float8, 0.3::float8) - 1.0::float8), 1.0::float8 / 0.3::float8))::int $$;



------------------------------------------------------------------------------
-- Reference data: countries, cities, categories, brands.
------------------------------------------------------------------------------
CREATE TEMP TABLE country (
    cc text PRIMARY KEY, pc_format text, company_suffix text, tld text,
    mail_domains text[], income_shift double precision,
    f_names text[], m_names text[], l_names text[], lf_names text[]);
INSERT INTO country (cc, pc_format, company_suffix, tld, mail_domains, income_shift, f_names, m_names, l_names) VALUES
('MK', '9999',   'DOOEL',      'mk', '{t-home.mk,yahoo.com,hotmail.com}', -0.10,
 '{Ana,Marija,Elena,Ivana,Sara,Jovana,Katerina,Biljana}', '{Aleksandar,Nikola,Stefan,Dimitar,Goran,Marko,Bojan,Filip}',
 '{Petrovski,Nikolovski,Stojanovski,Trajkovski,Georgievski,Dimitrovski,Ristovski,Angelovski,Jovanovski,Kostovski}'),
('PL', '99-999', 'Sp. z o.o.', 'pl', '{wp.pl,onet.pl,o2.pl}', 0.00,
 '{Anna,Katarzyna,Maria,Magdalena,Agnieszka,Zofia,Julia,Ewa}', '{Piotr,Krzysztof,Tomasz,Pawel,Michal,Jakub,Marcin,Andrzej}',
 '{Nowak,Kowalski,Wisniewski,Wojcik,Kowalczyk,Kaminski,Lewandowski,Zielinski,Szymanski,Wozniak}'),
('RO', '999999', 'SRL',        'ro', '{yahoo.ro,yahoo.com,hotmail.com}', -0.05,
 '{Maria,Elena,Ioana,Andreea,Alexandra,Mihaela,Ana,Cristina}', '{Andrei,Alexandru,Mihai,Ion,Stefan,George,Adrian,Florin}',
 '{Popescu,Ionescu,Popa,Stan,Dumitru,Stoica,Gheorghe,Matei,Ciobanu,Rusu}'),
('DE', '99999',  'GmbH',       'de', '{gmx.de,web.de,t-online.de}', 0.15,
 '{Anna,Laura,Julia,Sarah,Katharina,Lena,Sabine,Petra}', '{Lukas,Jonas,Thomas,Michael,Stefan,Felix,Andreas,Jan}',
 '{Mueller,Schmidt,Schneider,Fischer,Weber,Meyer,Wagner,Becker,Schulz,Hoffmann}'),
('BG', '9999',   'EOOD',       'bg', '{abv.bg,mail.bg,yahoo.com}', -0.10,
 '{Maria,Ivana,Elena,Desislava,Gergana,Nikol,Teodora,Yana}', '{Georgi,Ivan,Dimitar,Nikolay,Hristo,Petar,Martin,Stoyan}',
 '{Ivanov,Georgiev,Dimitrov,Petrov,Nikolov,Hristov,Stoyanov,Todorov,Iliev,Angelov}'),
('RS', '99999',  'd.o.o.',     'rs', '{gmail.com,yahoo.com,eunet.rs}', -0.08,
 '{Milica,Jelena,Ana,Marija,Jovana,Dragana,Ivana,Tijana}', '{Nikola,Marko,Stefan,Luka,Milos,Nemanja,Dragan,Aleksandar}',
 '{Jovanovic,Petrovic,Nikolic,Markovic,Djordjevic,Stojanovic,Ilic,Stankovic,Pavlovic,Milosevic}'),
('GR', '999 99', 'A.E.',       'gr', '{otenet.gr,yahoo.gr,hotmail.com}', 0.00,
 '{Maria,Eleni,Katerina,Vasiliki,Sofia,Georgia,Dimitra,Anna}', '{Georgios,Dimitrios,Ioannis,Konstantinos,Nikolaos,Christos,Panagiotis,Vasilios}',
 '{Papadopoulos,Georgiou,Nikolaidis,Papadakis,Vlachos,Oikonomou,Dimitriou,Pappas,Karagiannis,Christodoulou}'),
('HR', '99999',  'd.o.o.',     'hr', '{net.hr,gmail.com,yahoo.com}', 0.03,
 '{Ana,Ivana,Marija,Petra,Lucija,Ema,Katarina,Maja}', '{Ivan,Luka,Marko,Josip,Tomislav,Ante,Matej,Filip}',
 '{Horvat,Kovacevic,Babic,Maric,Juric,Novak,Kovacic,Knezevic,Vukovic,Markovic}'),
('HU', '9999',   'Kft.',       'hu', '{freemail.hu,citromail.hu,gmail.com}', 0.02,
 '{Anna,Eszter,Katalin,Zsofia,Reka,Viktoria,Judit,Noemi}', '{Laszlo,Istvan,Bence,Gabor,Peter,Zoltan,Balazs,Adam}',
 '{Nagy,Kovacs,Toth,Szabo,Horvath,Varga,Kiss,Molnar,Nemeth,Farkas}'),
('CZ', '999 99', 's.r.o.',     'cz', '{seznam.cz,email.cz,centrum.cz}', 0.08,
 '{Jana,Eva,Hana,Tereza,Lucie,Petra,Veronika,Katerina}', '{Jan,Petr,Jiri,Tomas,Martin,Jakub,Lukas,Pavel}',
 '{Novak,Svoboda,Novotny,Dvorak,Cerny,Prochazka,Kucera,Vesely,Horak,Nemec}');
-- women's forms of family names where the language has them
UPDATE country SET lf_names = ARRAY(
    SELECT CASE
             WHEN cc IN ('MK', 'BG', 'PL') THEN regexp_replace(regexp_replace(n, 'ski$', 'ska'), '(ov|ev)$', '\1a')
             WHEN cc = 'GR' THEN regexp_replace(n, 'os$', 'ou')
             WHEN cc = 'CZ' THEN CASE WHEN n ~ 'y$' THEN regexp_replace(n, 'y$', 'a') ELSE n || 'ova' END
             ELSE n END
      FROM unnest(l_names) WITH ORDINALITY AS t(n, i) ORDER BY i);

-- ~40 cities; "rank" sets the Zipf-like share of customers (1/rank).
CREATE TEMP TABLE city (
    idx int PRIMARY KEY, name text, cc text, lat double precision, lon double precision,
    pc_lo int, pc_hi int, pc_step int, w double precision, lo double precision);
INSERT INTO city (idx, name, cc, lat, lon, pc_lo, pc_hi, pc_step) VALUES
 (1,  'Skopje',       'MK', 41.9981, 21.4254,   1000,   1060, 10),
 (2,  'Warsaw',       'PL', 52.2297, 21.0122,      0,   4999,  1),
 (3,  'Bucharest',    'RO', 44.4268, 26.1025,  10000,  62999,  1),
 (4,  'Berlin',       'DE', 52.5200, 13.4050,  10115,  14199,  1),
 (5,  'Sofia',        'BG', 42.6977, 23.3219,   1000,   1799,  1),
 (6,  'Belgrade',     'RS', 44.7866, 20.4489,  11000,  11273,  1),
 (7,  'Athens',       'GR', 37.9838, 23.7275,  10431,  11855,  1),
 (8,  'Budapest',     'HU', 47.4979, 19.0402,   1011,   1239,  1),
 (9,  'Prague',       'CZ', 50.0755, 14.4378,  10000,  19900, 100),
 (10, 'Krakow',       'PL', 50.0647, 19.9450,  30001,  31999,  1),
 (11, 'Zagreb',       'HR', 45.8150, 15.9819,  10000,  10040,  1),
 (12, 'Hamburg',      'DE', 53.5511,  9.9937,  20095,  22769,  1),
 (13, 'Munich',       'DE', 48.1351, 11.5820,  80331,  81929,  1),
 (14, 'Bitola',       'MK', 41.0314, 21.3347,   7000,   7000,  1),
 (15, 'Kumanovo',     'MK', 42.1322, 21.7144,   1300,   1300,  1),
 (16, 'Cluj-Napoca',  'RO', 46.7712, 23.6236, 400001, 400999,  1),
 (17, 'Wroclaw',      'PL', 51.1079, 17.0385,  50001,  54999,  1),
 (18, 'Thessaloniki', 'GR', 40.6401, 22.9444,  54621,  56429,  1),
 (19, 'Lodz',         'PL', 51.7592, 19.4560,  90001,  94999,  1),
 (20, 'Tetovo',       'MK', 42.0106, 20.9715,   1200,   1200,  1),
 (21, 'Cologne',      'DE', 50.9375,  6.9603,  50667,  51149,  1),
 (22, 'Poznan',       'PL', 52.4064, 16.9252,  60001,  61999,  1),
 (23, 'Plovdiv',      'BG', 42.1354, 24.7453,   4000,   4023,  1),
 (24, 'Novi Sad',     'RS', 45.2671, 19.8335,  21000,  21138,  1),
 (25, 'Timisoara',    'RO', 45.7489, 21.2087, 300001, 300999,  1),
 (26, 'Gdansk',       'PL', 54.3520, 18.6466,  80001,  80999,  1),
 (27, 'Brno',         'CZ', 49.1951, 16.6068,  60200,  64400, 100),
 (28, 'Ohrid',        'MK', 41.1172, 20.8016,   6000,   6000,  1),
 (29, 'Varna',        'BG', 43.2141, 27.9147,   9000,   9027,  1),
 (30, 'Frankfurt',    'DE', 50.1109,  8.6821,  60306,  60599,  1),
 (31, 'Iasi',         'RO', 47.1585, 27.6014, 700001, 700999,  1),
 (32, 'Split',        'HR', 43.5081, 16.4402,  21000,  21000,  1),
 (33, 'Nis',          'RS', 43.3209, 21.8958,  18000,  18116,  1),
 (34, 'Debrecen',     'HU', 47.5316, 21.6273,   4024,   4079,  1),
 (35, 'Constanta',    'RO', 44.1598, 28.6348, 900001, 900999,  1),
 (36, 'Strumica',     'MK', 41.4378, 22.6427,   2400,   2400,  1),
 (37, 'Patras',       'GR', 38.2466, 21.7346,  26221,  26504,  1),
 (38, 'Ostrava',      'CZ', 49.8209, 18.2625,  70030,  72529,  1),
 (39, 'Szeged',       'HU', 46.2530, 20.1414,   6720,   6791,  1),
 (40, 'Rijeka',       'HR', 45.3271, 14.4422,  51000,  51000,  1);
ALTER TABLE city ADD COLUMN region text;
UPDATE city c SET region = v.r FROM (VALUES
    ('Skopje', 'Skopje'), ('Bitola', 'Pelagonia'), ('Kumanovo', 'Northeastern'), ('Tetovo', 'Polog'),
    ('Ohrid', 'Southwestern'), ('Strumica', 'Southeastern'),
    ('Warsaw', 'Masovian'), ('Krakow', 'Lesser Poland'), ('Wroclaw', 'Lower Silesian'), ('Lodz', 'Lodz'),
    ('Poznan', 'Greater Poland'), ('Gdansk', 'Pomeranian'),
    ('Bucharest', 'Bucuresti'), ('Cluj-Napoca', 'Cluj'), ('Timisoara', 'Timis'), ('Iasi', 'Iasi'), ('Constanta', 'Constanta'),
    ('Berlin', 'Berlin'), ('Hamburg', 'Hamburg'), ('Munich', 'Bavaria'), ('Cologne', 'North Rhine-Westphalia'),
    ('Frankfurt', 'Hesse'),
    ('Sofia', 'Sofia City'), ('Plovdiv', 'Plovdiv'), ('Varna', 'Varna'),
    ('Belgrade', 'Belgrade'), ('Novi Sad', 'Vojvodina'), ('Nis', 'Nisava'),
    ('Athens', 'Attica'), ('Thessaloniki', 'Central Macedonia'), ('Patras', 'Western Greece'),
    ('Zagreb', 'City of Zagreb'), ('Split', 'Split-Dalmatia'), ('Rijeka', 'Primorje-Gorski Kotar'),
    ('Budapest', 'Budapest'), ('Debrecen', 'Hajdu-Bihar'), ('Szeged', 'Csongrad-Csanad'),
    ('Prague', 'Prague'), ('Brno', 'South Moravian'), ('Ostrava', 'Moravian-Silesian')) v(cn, r) WHERE v.cn = c.name;
UPDATE city SET w = 1.0 / idx;
UPDATE city c SET w = c.w / t.s FROM (SELECT sum(w) AS s FROM city) t;
UPDATE city c SET lo = t.lo FROM (SELECT idx, coalesce(sum(w) OVER (ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lo FROM city) t WHERE t.idx = c.idx;

-- 25 categories: share of the catalogue, log-uniform price range, product nouns.
CREATE TEMP TABLE category (
    idx int PRIMARY KEY, name text, share double precision, p_lo numeric, p_hi numeric, nouns text[],
    lo double precision, n int);
INSERT INTO category (idx, name, share, p_lo, p_hi, nouns) VALUES
 (1,  'Electronics',   8,  15, 1200, '{Headphones,Speaker,Television,Camera,Smartwatch}'),
 (2,  'Phones',        3, 100, 1200, '{Smartphone,Phone,Phone Case}'),
 (3,  'Computers',     4, 250, 2000, '{Laptop,Desktop,Monitor,Tablet}'),
 (4,  'Shoes',         8,  30,  220, '{Running Shoe,Sneaker,Boot,Sandal,Loafer}'),
 (5,  'Clothing',     10,  10,  150, '{T-Shirt,Jeans,Jacket,Dress,Sweater,Shirt}'),
 (6,  'Sportswear',    5,  15,  120, '{Leggings,Track Jacket,Sports Bra,Shorts}'),
 (7,  'Books',         8,   5,   45, '{Novel,Cookbook,Biography,Guide,Atlas}'),
 (8,  'Toys',          5,   5,   80, '{Puzzle,Doll,Building Set,Board Game,Plush}'),
 (9,  'Home & Garden', 6,   8,  300, '{Lamp,Planter,Rug,Garden Hose,Cushion}'),
 (10, 'Kitchen',       5,   5,  200, '{Pan,Knife Set,Kettle,Blender,Mug}'),
 (11, 'Furniture',     3,  50, 1200, '{Chair,Desk,Sofa,Shelf,Bed Frame}'),
 (12, 'Beauty',        5,   4,   80, '{Face Cream,Lipstick,Perfume,Shampoo}'),
 (13, 'Health',        3,   5,   60, '{Vitamins,Thermometer,First Aid Kit}'),
 (14, 'Groceries',     4,   1,   25, '{Coffee,Olive Oil,Tea,Chocolate,Pasta}'),
 (15, 'Pet Supplies',  3,   3,   70, '{Dog Food,Cat Litter,Pet Bed,Leash}'),
 (16, 'Jewellery',     2,  20,  900, '{Ring,Necklace,Earrings,Bracelet}'),
 (17, 'Watches',       2,  40,  800, '{Watch,Chronograph,Watch Strap}'),
 (18, 'Bags',          3,  15,  250, '{Backpack,Handbag,Suitcase,Wallet}'),
 (19, 'Office',        3,   2,  150, '{Notebook,Pen Set,Printer Paper,Stapler}'),
 (20, 'Tools',         3,  10,  400, '{Drill,Screwdriver Set,Hammer,Saw}'),
 (21, 'Automotive',    2,   8,  300, '{Car Charger,Floor Mats,Dash Cam,Wiper Blades}'),
 (22, 'Music',         2,  10,  600, '{Guitar,Keyboard,Vinyl Record,Microphone}'),
 (23, 'Games',         3,  10,   70, '{Video Game,Controller,Card Game}'),
 (24, 'Baby',          2,   5,  200, '{Stroller,Baby Bottle,Diapers,Car Seat}'),
 (25, 'Clearance',     2,   1,   40, '{Mug,Phone Case,Socks,Notebook,Keyring}');
UPDATE category c SET share = c.share / t.s FROM (SELECT sum(share) AS s FROM category) t;
UPDATE category c SET lo = t.lo FROM (SELECT idx, coalesce(sum(share) OVER (ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS lo FROM category) t WHERE t.idx = c.idx;

CREATE TEMP TABLE brand (idx int PRIMARY KEY, name text, lo double precision);
INSERT INTO brand (idx, name)
SELECT i, n FROM unnest('{Acme,Nova,Zenit,Vega,Orion,Polaris,Aurora,Titan,Delta,Sigma,
  Lumen,Kestrel,Balkan,Danubia,Vistula,Carpatia,Adria,Olympus,Rila,Pirin,
  Tatra,Morava,Sava,Drava,Vardar,Struma,Elbe,Alpina,Borealis,Helios,
  Atlas,Apex,Summit,Crest,Pioneer,Meridian,Horizon,Stella,Luna,Terra,
  Aqua,Ignis,Ventus,Fenix,Lynx,Falcon,Bison,Wolfram,Otter,Heron,
  Crane,Swift,Urbano,Classico,Basico,Kappa Home,Mira,Dacia Craft,Korona,Primo}'::text[])
  WITH ORDINALITY AS t(n, i);
-- Zipf-like brand shares, 1/rank^0.8
UPDATE brand b SET lo = t.lo FROM (
    SELECT idx, coalesce(sum(power(idx, -0.8)) OVER (ORDER BY idx ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                / sum(power(idx, -0.8)) OVER () AS lo FROM brand) t WHERE t.idx = b.idx;

-- Thresholds for width_bucket() draws, in one row.
CREATE TEMP TABLE thr AS SELECT
  (SELECT array_agg(lo ORDER BY idx) FROM city WHERE idx > 1) AS city,
  (SELECT array_agg(lo ORDER BY idx) FROM category WHERE idx > 1) AS category,
  (SELECT array_agg(lo ORDER BY idx) FROM brand WHERE idx > 1) AS brand,
  -- hour of day of an ordinary order (UTC), cumulative, hours 1..23
  (SELECT array_agg(c ORDER BY h) FROM (
     SELECT h, sum(w) OVER (ORDER BY h) / 100.0 AS c
       FROM unnest('{2,1,1,1,1,1,1,2,3,4,6,5,7,6,5,5,5,5,6,7,8,8,6,4}'::int[]) WITH ORDINALITY AS t(w, h)) x
   WHERE h < 24) AS hour;

------------------------------------------------------------------------------
-- Products: categories in exact proportions (over a hashed order), Zipf-like
-- brands, log-uniform prices within the category's range.
------------------------------------------------------------------------------
CREATE TABLE shop.products (
    id int NOT NULL,
    name text,
    category text,
    brand text,
    price numeric(10,2)
);
CREATE TEMP TABLE prod_tmp AS
SELECT p.id, p.cat, cat.name AS category, b.name AS brand,
       round(exp(ln(cat.p_lo) + pg_temp.u(p.id, 302) * (ln(cat.p_hi) - ln(cat.p_lo)))::numeric, 0) - 0.01 AS price,
       b.name || ' ' || cat.nouns[1 + floor(pg_temp.u(p.id, 303) * cardinality(cat.nouns))::int]
              || ' ' || chr(65 + floor(pg_temp.u(p.id, 304) * 26)::int) || (10 + floor(pg_temp.u(p.id, 305) * 990)::int) AS name
  FROM (SELECT id, 1 + width_bucket((rk - 0.5) / np, thr.category) AS cat
          FROM (SELECT g AS id, row_number() OVER (ORDER BY pg_temp.u(g, 300), g) AS rk, params.n_products AS np
                  FROM params, generate_series(1, params.n_products) g) r, thr) p
  JOIN category cat ON cat.idx = p.cat
  JOIN brand b ON b.idx = 1 + width_bucket(pg_temp.u(p.id, 301), (SELECT brand FROM thr));
-- a price ending in .99 that is at least 0.99
UPDATE prod_tmp SET price = 0.99 WHERE price < 0.99;
INSERT INTO shop.products SELECT id, name, category, brand, price FROM prod_tmp ORDER BY id;
UPDATE category c SET n = t.n FROM (SELECT cat, count(*) AS n FROM prod_tmp GROUP BY cat) t WHERE t.cat = c.idx;

-- Popularity: rank 1..n within all products (key 0) and within each category,
-- in a hashed order so that popularity is not tied to ids.
CREATE TEMP TABLE pick AS
SELECT 0 AS key, row_number() OVER (ORDER BY pg_temp.u(id, 310) * price, id)::int AS rank, id AS product_id, (price * 100)::int AS cents, cat
  FROM prod_tmp
UNION ALL
SELECT cat, row_number() OVER (PARTITION BY cat ORDER BY pg_temp.u(id, 311) * power(price, 0.7), id)::int, id, (price * 100)::int, cat
  FROM prod_tmp;
CREATE UNIQUE INDEX ON pick (key, rank);
ANALYZE pick;
-- number of products behind each key (1..25 a category; 0 all)
ALTER TABLE thr ADD COLUMN n_pick int[];
UPDATE thr SET n_pick = (SELECT array_agg(n ORDER BY idx) FROM category) || (SELECT n_products FROM params);

------------------------------------------------------------------------------
-- Customers and their (hidden) behaviour.
------------------------------------------------------------------------------
CREATE TEMP TABLE cust_tmp AS
SELECT x.*,
       -- end of the ordering life: churned customers stop at some point
       CASE WHEN kind = 2 AND pg_temp.u(id, 21) < 0.40 THEN created_at + (p.now_ - created_at) * pg_temp.u(id, 22)
            WHEN kind = 3 AND pg_temp.u(id, 21) < 0.12 THEN created_at + (p.now_ - created_at) * (0.5 + 0.5 * pg_temp.u(id, 22))
            ELSE p.now_ END AS end_at
  FROM (
    SELECT g AS id,
           1 + width_bucket(pg_temp.u(g, 1), t.city) AS city_idx,
           CASE WHEN pg_temp.u(g, 2) < 0.05 THEN NULL WHEN pg_temp.u(g, 3) < 0.51 THEN 'f' ELSE 'm' END AS gender,
           pg_temp.u(g, 3) AS name_side,
           -- exact age in years at "now": mostly 25-45, a tail from 18 to 85
           CASE WHEN pg_temp.u(g, 4) < 0.10 THEN NULL
                WHEN pg_temp.u(g, 5) < 0.65 THEN 24.0 + 11.0 * (pg_temp.u(g, 6) + pg_temp.u(g, 7))
                ELSE 18.0 + 67.99 * power(pg_temp.u(g, 6), 1.6) END AS age,
           pg_temp.u(g, 8) < 0.12 AS b2b,
           -- registration: over the two years, somewhat more in the first
           least(p.start_ + (p.now_ - p.start_) * power(pg_temp.u(g, 9), 1.25), p.now_ - interval '2 days') AS created_at,
           -- 0 never ordered, 1 one or two orders, 2 occasional (Pareto rate), 3 monthly regular
           CASE WHEN pg_temp.u(g, 10) < 0.17 THEN 0 WHEN pg_temp.u(g, 10) < 0.40 THEN 1
                WHEN pg_temp.u(g, 10) < 0.93 THEN 2 ELSE 3 END AS kind,
           pg_temp.u(g, 11) AS rate_u,
           pg_temp.u(g, 12) < 0.07 AS night,
           -- preferred channel: 1 web, 2 app, 3 phone, 4 e-mail
           CASE WHEN pg_temp.u(g, 13) < (CASE WHEN pg_temp.u(g, 8) < 0.12 THEN 0.15 ELSE 0.03 END) THEN 3
                WHEN pg_temp.u(g, 13) < (CASE WHEN pg_temp.u(g, 8) < 0.12 THEN 0.25 ELSE 0.05 END) THEN 4
                WHEN pg_temp.u(g, 13) < 0.20 THEN 2 ELSE 1 END AS channel,
           pg_temp.u(g, 14) < 0.04 AS returner,
           1 + width_bucket(pg_temp.u(g, 15), t.category) AS fav_cat,
           pg_temp.u(g, 16) < 0.10 AS blog_lover,
           pg_temp.u(g, 17) < 0.38 AS news_u
      FROM params p, thr t, generate_series(1, p.n_customers) g
    OFFSET 0) x, params p;

ALTER TABLE cust_tmp ADD COLUMN n int, ADD COLUMN newsletter boolean;
UPDATE cust_tmp c SET
  newsletter = CASE WHEN b2b THEN pg_temp.u(id, 17) < 0.50 ELSE news_u END,
  n = CASE kind
        WHEN 0 THEN 0
        WHEN 1 THEN 1 + (pg_temp.u(id, 18) < 0.15)::int
        -- months alive x a Pareto rate (alpha 1.5) per month; B2B buy more often
        WHEN 2 THEN least(1500, greatest(1, round(
               extract(epoch FROM end_at - created_at) / (30.44 * 86400)
               * least(25.0, 0.50 * power(1.0 - rate_u, -1.0 / 1.5)) * (CASE WHEN b2b THEN 1.3 ELSE 1 END))::int))
        ELSE greatest(1, round(extract(epoch FROM end_at - created_at) / (30.44 * 86400) * (1.0 + 1.2 * rate_u))::int)
      END;
ANALYZE cust_tmp;

CREATE TABLE shop.customers (
    id bigint NOT NULL,
    email text NOT NULL,
    first_name text,
    last_name text,
    city text,
    region text,
    country text,
    postal_code text,
    gender text,
    birth_date date,
    company text,
    newsletter boolean,
    income_band text,
    profession text,
    lat double precision,
    lon double precision,
    created_at timestamptz
);

INSERT INTO shop.customers
SELECT id,
       CASE WHEN b2b THEN lower(fn) || id || '@' || lower(regexp_replace(company_word, '[^A-Za-z]', '', 'g')) || '.' || tld
            WHEN pg_temp.u(id, 40) < 0.3 THEN lower(left(fn, 1) || ln) || id || '@' || dom
            ELSE lower(fn || '.' || ln) || id || '@' || dom END,
       fn, ln, city, region, cc, postal_code, gender, birth_date,
       CASE WHEN b2b THEN company_word || ' ' || company_suffix END,
       newsletter, income_band, profession, lat, lon, created_at
  FROM (
    SELECT c.id, c.b2b, c.gender, c.newsletter, c.created_at, ci.name AS city, co.cc, co.tld, co.company_suffix,
           (CASE WHEN c.gender = 'f' OR (c.gender IS NULL AND c.name_side < 0.5) THEN co.f_names ELSE co.m_names END)
             [1 + floor(pg_temp.u(c.id, 41) * 8)::int] AS fn,
           (CASE WHEN c.gender = 'f' OR (c.gender IS NULL AND c.name_side < 0.5) THEN co.lf_names ELSE co.l_names END)
             [1 + floor(pg_temp.u(c.id, 42) * 10)::int] AS ln,
           CASE WHEN pg_temp.u(c.id, 43) < 0.45 THEN (ARRAY['gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com', 'hotmail.com'])[1 + floor(pg_temp.u(c.id, 44) * 5)::int]
                ELSE co.mail_domains[1 + floor(pg_temp.u(c.id, 44) * cardinality(co.mail_domains))::int] END AS dom,
           (ARRAY['Nova', 'Alfa', 'Delta', 'Euro', 'Balkan', 'Prima', 'Omega', 'Vita', 'Tehno', 'Agro', 'Stil', 'Maxi',
                  'Centar', 'Promet', 'Global', 'Star', 'Sigma', 'Terra', 'Linea', 'Proxima'])[1 + floor(pg_temp.u(c.id, 45) * 20)::int]
             || (ARRAY[' Trade', ' Logistics', ' Systems', ' Foods', ' Consulting', ' Build', ' Media', ' Tech', ' Med', ' Print',
                       ' Invest', ' Auto', ' Textil', ' Design', ' Energy', ''])[1 + floor(pg_temp.u(c.id, 46) * 16)::int] AS company_word,
           ci.region,
           -- postal code: a number in the city's range, in the country's format
           CASE co.pc_format
             WHEN '99-999' THEN substr(lpad(pc::text, 5, '0'), 1, 2) || '-' || substr(lpad(pc::text, 5, '0'), 3)
             WHEN '999 99' THEN substr(lpad(pc::text, 5, '0'), 1, 3) || ' ' || substr(lpad(pc::text, 5, '0'), 4)
             ELSE lpad(pc::text, length(co.pc_format), '0') END AS postal_code,
           CASE WHEN c.age IS NULL THEN NULL
                ELSE date '2026-11-01' - ceil(c.age * 365.2425)::int END AS birth_date,
           -- income band: shifted by country, by profession; NULL when unknown
           CASE WHEN pg_temp.u(c.id, 50) < 0.15 THEN NULL
                WHEN pg_temp.u(c.id, 51) + co.income_shift + (CASE WHEN prof IN ('doctor', 'lawyer', 'manager', 'IT specialist', 'engineer') THEN 0.25
                                                                  WHEN prof IN ('student', 'unemployed') THEN -0.35
                                                                  WHEN prof = 'retired' THEN -0.15 ELSE 0 END) > 0.88 THEN 'high'
                WHEN pg_temp.u(c.id, 51) + co.income_shift + (CASE WHEN prof IN ('doctor', 'lawyer', 'manager', 'IT specialist', 'engineer') THEN 0.25
                                                                  WHEN prof IN ('student', 'unemployed') THEN -0.35
                                                                  WHEN prof = 'retired' THEN -0.15 ELSE 0 END) > 0.40 THEN 'mid'
                ELSE 'low' END AS income_band,
           prof AS profession,
           -- a point within a few km of the city centre (more spread for big cities)
           ci.lat + (2.0 + 10.0 * sqrt(ci.w / 0.24)) * sqrt(pg_temp.u(c.id, 52)) * cos(2 * pi() * pg_temp.u(c.id, 53)) / 111.2 AS lat,
           ci.lon + (2.0 + 10.0 * sqrt(ci.w / 0.24)) * sqrt(pg_temp.u(c.id, 52)) * sin(2 * pi() * pg_temp.u(c.id, 53))
                    / (111.2 * cos(radians(ci.lat))) AS lon
      FROM (SELECT c.*,
                   CASE WHEN pg_temp.u(c.id, 55) < 0.22 THEN NULL
                        WHEN c.age < 24 AND pg_temp.u(c.id, 56) < 0.6 THEN 'student'
                        WHEN c.age >= 65 AND pg_temp.u(c.id, 56) < 0.75 THEN 'retired'
                        ELSE (ARRAY['engineer', 'teacher', 'nurse', 'doctor', 'sales', 'manager', 'IT specialist', 'accountant',
                                    'driver', 'self-employed', 'designer', 'lawyer', 'craftsman', 'civil servant', 'unemployed',
                                    'sales', 'IT specialist', 'manager', 'teacher', 'craftsman'])[1 + floor(pg_temp.u(c.id, 57) * 20)::int]
                   END AS prof
              FROM cust_tmp c) c
      JOIN city ci ON ci.idx = c.city_idx
      JOIN country co ON co.cc = ci.cc
      CROSS JOIN LATERAL (SELECT ci.pc_lo + ci.pc_step * floor(pg_temp.u(c.id, 54) * ((ci.pc_hi - ci.pc_lo) / ci.pc_step + 1))::int AS pc) pcx
    OFFSET 0) s
 ORDER BY id;

------------------------------------------------------------------------------
-- Orders: placed over each customer's ordering life (first order close to
-- registration), ids in time order; items drawn from a Zipf-like popularity,
-- a third of them from the customer's favourite category.
------------------------------------------------------------------------------
CREATE TEMP TABLE ord_tmp AS
SELECT row_number() OVER w AS id,
       sum(nitems) OVER w - nitems AS item_base,
       customer_id, placed_at, nitems, status, channel, fav_cat, b2b
  FROM (
    SELECT y.*,
           CASE y.channel_pref
             WHEN 1 THEN CASE WHEN y.cu < 0.88 THEN 'web' ELSE 'app' END
             WHEN 2 THEN CASE WHEN y.cu < 0.80 THEN 'app' ELSE 'web' END
             WHEN 3 THEN CASE WHEN y.cu < 0.65 THEN 'phone' WHEN y.cu < 0.90 THEN 'web' ELSE 'email' END
             ELSE CASE WHEN y.cu < 0.60 THEN 'email' WHEN y.cu < 0.70 THEN 'phone' ELSE 'web' END END AS channel,
           CASE WHEN y.su < (CASE WHEN y.returner THEN 0.25 ELSE 0.028 END) THEN 'returned'
                WHEN y.su < (CASE WHEN y.returner THEN 0.27 ELSE 0.048 END) THEN 'cancelled'
                ELSE 'paid' END AS status
      FROM (
        SELECT c.id AS customer_id, k, c.fav_cat, c.b2b, c.returner, c.channel AS channel_pref,
               pg_temp.u2(c.id, k, 63) AS cu, pg_temp.u2(c.id, k, 64) AS su,
               1 + width_bucket(pg_temp.u2(c.id, k, 65), ARRAY[0.30, 0.55, 0.75, 0.90]) AS nitems,
               least(greatest(
                 date_trunc('day', c.created_at + (c.end_at - c.created_at) *
                   CASE WHEN c.kind = 3 THEN (k - 0.85 + 0.7 * pg_temp.u2(c.id, k, 60)) / c.n
                        WHEN k = 1 THEN 0.03 * pg_temp.u2(c.id, k, 60)
                        ELSE pg_temp.u2(c.id, k, 60) END)
                 + make_interval(hours => CASE WHEN c.night AND pg_temp.u2(c.id, k, 61) < 0.7
                                               THEN (ARRAY[22, 23, 0, 1, 2])[1 + floor(pg_temp.u2(c.id, k, 62) * 5)::int]
                                               ELSE width_bucket(pg_temp.u2(c.id, k, 62), t.hour) END)
                 + make_interval(secs => floor(pg_temp.u2(c.id, k, 66) * 3600)),
                 c.created_at + interval '7 minutes'), p.now_ - interval '1 second') AS placed_at
          FROM cust_tmp c, params p, thr t, generate_series(1, c.n) k
         WHERE c.n > 0
        OFFSET 0) y
    OFFSET 0) z
WINDOW w AS (ORDER BY placed_at, customer_id, k);
ANALYZE ord_tmp;

CREATE TABLE shop.order_items (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    product_id int NOT NULL,
    quantity int NOT NULL,
    price numeric(10,2) NOT NULL
);
CREATE TABLE shop.orders (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    placed_at timestamptz NOT NULL,
    total numeric(12,2) NOT NULL,
    status text NOT NULL,
    channel text NOT NULL
);
-- Items are drawn once; the same rows feed order_items and the orders'
-- totals (in cents, so that a total is exactly the sum of its items).
WITH it AS (
    SELECT d.item_base + d.j AS id, d.id AS order_id, pk.product_id,
           CASE WHEN d.b2b AND d.qu < 0.20 THEN 2 + floor(d.qu / 0.20 * 7)::int
                WHEN d.qu < 0.85 THEN 1 WHEN d.qu < 0.95 THEN 2 WHEN d.qu < 0.98 THEN 3
                ELSE 4 + floor((d.qu - 0.98) / 0.02 * 3)::int END AS quantity,
           -- 12% of items at 10-30% off (not in Clearance)
           CASE WHEN d.du < 0.12 AND pk.cat <> 25 THEN round(pk.cents * (0.7 + 0.2 * d.du / 0.12))::int
                ELSE pk.cents END AS cents
      FROM (
        SELECT e.*, pg_temp.zipf(e.ru, t.n_pick[CASE WHEN e.key = 0 THEN 26 ELSE e.key END]) AS rank
          FROM (SELECT o.id, o.item_base, j.j, o.b2b,
                       CASE WHEN pg_temp.u2(o.id, j.j, 70) < 0.35 THEN o.fav_cat ELSE 0 END AS key,
                       pg_temp.u2(o.id, j.j, 71) AS ru, pg_temp.u2(o.id, j.j, 72) AS qu, pg_temp.u2(o.id, j.j, 73) AS du
                  FROM ord_tmp o JOIN (VALUES (1), (2), (3), (4), (5)) j(j) ON j.j <= o.nitems) e, thr t
        OFFSET 0) d
      JOIN pick pk ON pk.key = d.key AND pk.rank = d.rank
), ins AS (
    INSERT INTO shop.order_items SELECT id, order_id, product_id, quantity, cents * 0.01 FROM it
)
INSERT INTO shop.orders
SELECT o.id, o.customer_id, o.placed_at, t.cents * 0.01, o.status, o.channel
  FROM ord_tmp o
  JOIN (SELECT order_id, sum(quantity * cents::bigint) AS cents FROM it GROUP BY order_id) t ON t.order_id = o.id;

------------------------------------------------------------------------------
-- Events: newsletter opens and clicks (subscribers get the weekly campaign),
-- transactional mail opens, page views, app push clicks, sessions.
------------------------------------------------------------------------------
CREATE TABLE shop.email_events (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    url text,
    duration_s int
);
CREATE TEMP TABLE ev_plan AS
SELECT c.id, c.created_at, c.fav_cat, c.blog_lover,
       -- e-mail engagement ends when a subscriber loses interest
       CASE WHEN c.newsletter AND pg_temp.u(c.id, 80) < 0.35 THEN c.created_at + (p.now_ - c.created_at) * pg_temp.u(c.id, 81)
            WHEN c.newsletter THEN p.now_
            ELSE c.end_at END AS mail_end,
       least(p.now_, c.end_at + interval '45 days') AS web_end,
       opens, round(opens * (0.05 + 0.35 * pg_temp.u(c.id, 83)))::int AS clicks,
       views, round(views * (0.2 + 0.3 * pg_temp.u(c.id, 85)))::int + (pg_temp.u(c.id, 86) < 0.4)::int AS sessions,
       CASE WHEN c.channel = 2 OR pg_temp.u(c.id, 87) < 0.25 THEN round(5 * power(pg_temp.u(c.id, 88), 2) + 0.15 * c.n)::int ELSE 0 END AS pushes
  FROM (SELECT c.*,
               CASE WHEN c.newsletter
                    THEN round(extract(epoch FROM p.now_ - c.created_at) / (7 * 86400) * power(pg_temp.u(c.id, 82), 1.8) * 0.75)::int
                    ELSE round(c.n * 0.3 * pg_temp.u(c.id, 82))::int END AS opens,
               least(400, round(1.2 * power(1.0 - pg_temp.u(c.id, 84), -1.0 / 1.6) - 1.0 + 0.35 * c.n)::int) AS views
          FROM cust_tmp c, params p) c, params p;
-- subscribers' opens only happen before their interest ends: scale them down
UPDATE ev_plan e SET opens = round(e.opens * extract(epoch FROM e.mail_end - e.created_at) / extract(epoch FROM p.now_ - e.created_at))::int,
                     clicks = round(e.clicks * extract(epoch FROM e.mail_end - e.created_at) / extract(epoch FROM p.now_ - e.created_at))::int
  FROM params p WHERE e.mail_end < p.now_ AND e.opens > 0;
ANALYZE ev_plan;

INSERT INTO shop.email_events
SELECT row_number() OVER (ORDER BY at, customer_id, kn, j), customer_id,
       (ARRAY['email_open', 'email_click', 'page_view', 'session', 'push_click'])[kn], at,
       CASE WHEN kn <> 3 THEN NULL
            WHEN vu < (CASE WHEN blog_lover THEN 0.6 ELSE 0.10 END) THEN
              '/blog/' || (ARRAY['spring-lookbook', 'how-to-choose-running-shoes', 'gift-guide', 'black-friday-deals',
                                 'best-laptops-for-students', 'home-office-setup', 'care-for-leather-boots', 'summer-recipes',
                                 'top-10-board-games', 'skincare-routine', 'camping-checklist', 'back-to-school',
                                 'coffee-brewing-basics', 'small-kitchen-ideas', 'new-arrivals', 'sustainability-report',
                                 'pet-care-tips', 'winter-jackets-compared', 'smartwatch-buying-guide', 'reading-list'])
                              [1 + floor(pg_temp.u2(customer_id, j, 92) * 20)::int]
            WHEN vu < 0.45 THEN '/c/' || lower(replace(replace(cat.name, ' & ', '-'), ' ', '-'))
            ELSE '/p/' || pk.product_id END,
       CASE WHEN kn = 4 THEN greatest(5, round(exp(ln(15) + pg_temp.u2(customer_id, j, 93) * ln(3600.0 / 15)))::int) END
  FROM (
    SELECT e.id AS customer_id, k.kn, j, e.fav_cat, e.blog_lover,
           e.created_at + (CASE WHEN k.kn <= 2 THEN e.mail_end ELSE e.web_end END - e.created_at)
                          * pg_temp.u2(e.id, k.kn * 100000 + j, 90) AS at,
           pg_temp.u2(e.id, j, 91) AS vu,
           CASE WHEN k.kn = 3 THEN pg_temp.zipf(pg_temp.u2(e.id, j, 94), (SELECT n_products FROM params)) END AS prank,
           CASE WHEN pg_temp.u2(e.id, j, 95) < 0.5 THEN e.fav_cat ELSE 1 + floor(pg_temp.u2(e.id, j, 96) * 25)::int END AS vcat
      FROM ev_plan e
     CROSS JOIN LATERAL (VALUES (1, e.opens), (2, e.clicks), (3, e.views), (4, e.sessions), (5, e.pushes)) k(kn, cnt)
     CROSS JOIN LATERAL generate_series(1, k.cnt) j
    OFFSET 0) x
  LEFT JOIN pick pk ON pk.key = 0 AND pk.rank = x.prank
  LEFT JOIN category cat ON cat.idx = x.vcat;

------------------------------------------------------------------------------
-- Keys, constraints and indexes after loading; statistics.
------------------------------------------------------------------------------
ALTER TABLE shop.customers ADD PRIMARY KEY (id), ADD UNIQUE (email);
ALTER TABLE shop.products ADD PRIMARY KEY (id);
ALTER TABLE shop.orders ADD PRIMARY KEY (id),
    ADD FOREIGN KEY (customer_id) REFERENCES shop.customers;
ALTER TABLE shop.order_items ADD PRIMARY KEY (id),
    ADD FOREIGN KEY (order_id) REFERENCES shop.orders,
    ADD FOREIGN KEY (product_id) REFERENCES shop.products;
ALTER TABLE shop.email_events ADD PRIMARY KEY (id),
    ADD FOREIGN KEY (customer_id) REFERENCES shop.customers;
CREATE INDEX order_items_order_id_idx ON shop.order_items (order_id);
CREATE INDEX orders_customer_id_idx ON shop.orders (customer_id);
CREATE INDEX orders_placed_at_idx ON shop.orders (placed_at);
CREATE INDEX email_events_customer_id_idx ON shop.email_events (customer_id);
CREATE INDEX email_events_at_idx ON shop.email_events (at);
ANALYZE shop.customers, shop.products, shop.orders, shop.order_items, shop.email_events;

DROP TABLE pg_temp.params, pg_temp.country, pg_temp.city, pg_temp.category, pg_temp.brand, pg_temp.thr,
           pg_temp.prod_tmp, pg_temp.pick, pg_temp.cust_tmp, pg_temp.ord_tmp, pg_temp.ev_plan;
RESET work_mem;
RESET maintenance_work_mem;

SELECT (SELECT count(*) FROM shop.customers) AS customers,
       (SELECT count(*) FROM shop.products) AS products,
       (SELECT count(*) FROM shop.orders) AS orders,
       (SELECT count(*) FROM shop.order_items) AS order_items,
       (SELECT count(*) FROM shop.email_events) AS events,
       (SELECT min(placed_at)::date || ' .. ' || max(placed_at)::date FROM shop.orders) AS orders_placed,
       (SELECT round(100.0 * count(DISTINCT customer_id) / (SELECT count(*) FROM shop.customers), 1)
          FROM shop.orders WHERE placed_at > timestamptz '2026-11-01 00:00:00+00' - interval '365 days') AS pct_ordered_last_365d;
