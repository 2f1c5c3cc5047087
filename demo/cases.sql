-- The 16 cases of the rule language (shared/design/rule-language.md) as
-- segments: 18 rules, case 15 (RFM, scores) aside.  Shared by the demo and
-- the benchmarks, which define them from this table.
CREATE TEMP TABLE cases (n int, name text, rule text, description text);
INSERT INTO cases VALUES
    (1,  'lapsing',          'orders(last 180 days) < 2 AND orders() >= 1',             'fewer than 2 orders in 6 months'),
    (2,  'loyal',            'spent(last 365 days) >= 1000',                             'orders worth 1000+ in a year'),
    (3,  'shoe_lovers',      'bought(category = ''Shoes'', last 365 days) >= 3',         'loyal buyers of a category'),
    (3,  'acme_premium',     'spent_on(brand = ''Acme'', last 365 days) >= 500',         'premium customers of a brand'),
    (4,  'small_orders',     'max_order() < 50',                                         'every order under 50'),
    (5,  'clearance',        'bought(category = ''Clearance'')',                          'bought in clearance'),
    (6,  'engaged',          'events(''email_open'', ''email_click'', last 30 days) >= 1', 'opened or clicked in 30 days'),
    (7,  'semi_engaged',     'events(''email_open'', ''email_click'', between 90 and 60 days ago) >= 1 AND events(''email_open'', ''email_click'', last 60 days) = 0', 'engaged 60-90 days ago, not since'),
    (8,  'near_skopje',      'within_km(lat, lon, 41.9981, 21.4254, 30)',                'within 30 km of Skopje'),
    (8,  'warsaw_centre',    'postal_code LIKE ''00-%''',                                'postal code prefix'),
    (9,  'women_25_34',      'gender = ''f'' AND age(birth_date) BETWEEN 25 AND 34',     'gender and age band'),
    (10, 'b2b_newsletter',   'company IS NOT NULL AND newsletter',                       'B2B newsletter subscribers'),
    (11, 'monthly',          'order_months(last 6 months) >= 5',                         'orders in 5 of the last 6 months'),
    (12, 'returned_recently','orders(last 30 days, status = ''returned'') >= 1',         'a return in 30 days'),
    (13, 'blog_readers',     'events(''page_view'', last 30 days, url LIKE ''/blog/%'') >= 3', 'reads the blog'),
    (14, 'night_owls',       'orders(last 180 days, hour(placed_at) >= 22 OR hour(placed_at) < 4) >= 2', 'late-night buyers'),
    (14, 'phone_email',      'orders(channel IN (''phone'', ''email'')) >= 2',           'orders by phone or e-mail'),
    (16, 'loyal_vips',       'in_segment(''loyal'') AND (tagged(''vip'') OR in_group(''employees''))', 'loyal and VIP or staff');
