namespace Agentry.Samples.DataPipeline;

/// The sample warehouse's tables and its demo history. The story: the shop's upstream database
/// renamed src_orders.amount to order_total in its release of 2026-12-03; the nightly load
/// (orders_daily) maps columns by name, found no `amount` and loaded NULL into fact_orders.amount
/// for the orders of 3 and 4 December; the data-quality monitor's check failed on 5 December.
internal static class WarehouseDemo
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS src_orders (
          order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, order_total NUMERIC, currency TEXT NOT NULL, ordered_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS src_daily_totals (
          order_date TEXT PRIMARY KEY, orders INTEGER NOT NULL, total NUMERIC NOT NULL);
        CREATE TABLE IF NOT EXISTS fact_orders (
          order_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, amount NUMERIC, currency TEXT NOT NULL,
          order_date TEXT NOT NULL, load_run_id TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS load_mappings (
          pipeline TEXT NOT NULL, target_table TEXT NOT NULL, target_column TEXT NOT NULL, source_table TEXT NOT NULL,
          source_column TEXT NOT NULL, PRIMARY KEY (pipeline, target_column));
        CREATE TABLE IF NOT EXISTS pipeline_runs (
          run_id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, load_date TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT NOT NULL,
          status TEXT NOT NULL, rows_read INTEGER NOT NULL, rows_written INTEGER NOT NULL, message TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS pipeline_logs (
          id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES pipeline_runs (run_id), at TEXT NOT NULL,
          level TEXT NOT NULL, message TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS quality_checks (
          name TEXT PRIMARY KEY, description TEXT NOT NULL, sql TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS migrations (
          id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, sql TEXT NOT NULL, run_id TEXT NOT NULL, call_id TEXT NOT NULL,
          promoted_at TEXT NOT NULL, checks TEXT NOT NULL, UNIQUE (run_id, call_id));
        """;

    // Six orders a day from 30 November to 4 December; each day's load runs at 02:00 the next day.
    public const string History = """
        BEGIN;
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
        INSERT INTO src_orders (order_id, customer_id, order_total, currency, ordered_at)
        SELECT 5000 + i, 100 + (i * 7) % 23, round(15 + (i * 37) % 180 + ((i * 13) % 100) / 100.0, 2), 'EUR',
               date('2026-11-30', '+' || ((i - 1) / 6) || ' days') || 'T' || printf('%02d', 8 + i % 12) || ':15:00Z'
        FROM n;
        INSERT INTO src_daily_totals (order_date, orders, total)
        SELECT date(ordered_at), count(*), round(sum(order_total), 2) FROM src_orders GROUP BY date(ordered_at);
        INSERT INTO load_mappings (pipeline, target_table, target_column, source_table, source_column) VALUES
          ('orders_daily', 'fact_orders', 'order_id', 'src_orders', 'order_id'),
          ('orders_daily', 'fact_orders', 'customer_id', 'src_orders', 'customer_id'),
          ('orders_daily', 'fact_orders', 'amount', 'src_orders', 'amount'),
          ('orders_daily', 'fact_orders', 'currency', 'src_orders', 'currency'),
          ('orders_daily', 'fact_orders', 'order_date', 'src_orders', 'ordered_at');
        INSERT INTO fact_orders (order_id, customer_id, amount, currency, order_date, load_run_id)
        SELECT order_id, customer_id, CASE WHEN date(ordered_at) < '2026-12-03' THEN order_total END, currency, date(ordered_at),
               'orders_daily-' || date(ordered_at)
        FROM src_orders;
        INSERT INTO pipeline_runs (run_id, pipeline, load_date, started_at, finished_at, status, rows_read, rows_written, message)
        SELECT 'orders_daily-' || order_date, 'orders_daily', order_date, date(order_date, '+1 day') || 'T02:00:00Z',
               date(order_date, '+1 day') || 'T02:00:41Z',
               CASE WHEN order_date < '2026-12-03' THEN 'succeeded' ELSE 'succeeded_with_warnings' END, orders, orders,
               CASE WHEN order_date < '2026-12-03' THEN 'Loaded ' || orders || ' orders.'
                    ELSE 'Loaded ' || orders || ' orders; ' || orders || ' with a NULL amount (a mapped source column is missing).' END
        FROM src_daily_totals;
        INSERT INTO pipeline_runs (run_id, pipeline, load_date, started_at, finished_at, status, rows_read, rows_written, message)
        SELECT 'customers_daily-' || order_date, 'customers_daily', order_date, date(order_date, '+1 day') || 'T01:30:00Z',
               date(order_date, '+1 day') || 'T01:30:12Z', 'succeeded', 3, 3, 'Loaded 3 customers.'
        FROM src_daily_totals;
        INSERT INTO pipeline_runs (run_id, pipeline, load_date, started_at, finished_at, status, rows_read, rows_written, message) VALUES
          ('dq_monitor-2026-12-05', 'dq_monitor', '2026-12-04', '2026-12-05T06:00:00Z', '2026-12-05T06:00:03Z', 'failed', 30, 0,
           'Check fact_orders_amount_not_null failed; alert dq-7781 sent.');
        INSERT INTO pipeline_logs (run_id, at, level, message)
        SELECT run_id, started_at, 'INFO', 'Read ' || rows_read || ' rows from src_orders where date(ordered_at) = ''' || load_date || '''.'
        FROM pipeline_runs WHERE pipeline = 'orders_daily';
        INSERT INTO pipeline_logs (run_id, at, level, message) VALUES
          ('orders_daily-2026-12-03', '2026-12-04T02:00:02Z', 'WARN',
           'Schema of src_orders changed since run orders_daily-2026-12-02: column amount is gone; column order_total is new.'),
          ('orders_daily-2026-12-03', '2026-12-04T02:00:02Z', 'WARN',
           'Mapping orders_daily: source column src_orders.amount does not exist; fact_orders.amount loaded as NULL for 6 rows.'),
          ('orders_daily-2026-12-04', '2026-12-05T02:00:02Z', 'WARN',
           'Mapping orders_daily: source column src_orders.amount does not exist; fact_orders.amount loaded as NULL for 6 rows.');
        INSERT INTO pipeline_logs (run_id, at, level, message)
        SELECT run_id, finished_at, 'INFO', 'Wrote ' || rows_written || ' rows to fact_orders.' FROM pipeline_runs WHERE pipeline = 'orders_daily';
        INSERT INTO pipeline_logs (run_id, at, level, message) VALUES
          ('dq_monitor-2026-12-05', '2026-12-05T06:00:02Z', 'ERROR',
           'Check fact_orders_amount_not_null failed: 12 rows of fact_orders have a NULL amount (order dates 2026-12-03 and 2026-12-04).'),
          ('dq_monitor-2026-12-05', '2026-12-05T06:00:02Z', 'ERROR',
           'Check fact_orders_reconcile_daily_totals failed: 2 order dates differ from the upstream daily totals.');
        INSERT INTO quality_checks (name, description, sql) VALUES
          ('fact_orders_amount_not_null', 'Every order in fact_orders has an amount.',
           'SELECT count(*) FROM fact_orders WHERE amount IS NULL'),
          ('fact_orders_reconcile_daily_totals', 'Each order date of fact_orders has the number of orders and the total of the upstream''s daily control totals (src_daily_totals).',
           'SELECT count(*) FROM src_daily_totals t LEFT JOIN (SELECT order_date, count(*) AS orders, round(sum(amount), 2) AS total FROM fact_orders GROUP BY order_date) f ON f.order_date = t.order_date WHERE f.orders IS NOT t.orders OR f.total IS NOT round(t.total, 2)'),
          ('load_mappings_match_source', 'Every source column the loads map from exists in its source table, so the next load reads real values.',
           'SELECT count(*) FROM load_mappings m WHERE m.source_column NOT IN (SELECT name FROM pragma_table_info(m.source_table))');
        COMMIT;
        """;
}
