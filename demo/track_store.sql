-- Tell segment where the demo store keeps its data (nothing is copied or
-- renamed).  Shared by the demo and the benchmarks.
SELECT segment.track_customers('shop.customers', id_column => 'id');
SELECT segment.track_orders('shop.orders', customer_column => 'customer_id',
                            amount_column => 'total', time_column => 'placed_at');
SELECT segment.track_products('shop.products');
SELECT segment.track_order_items('shop.order_items', order_column => 'order_id',
                                 product_column => 'product_id',
                                 quantity_column => 'quantity', price_column => 'price');
SELECT segment.track_events('shop.email_events', customer_column => 'customer_id',
                            kind_column => 'kind', time_column => 'at');
