-- 015 records where each process serves its Prometheus metrics (not an
-- Airflow column): metrics_addr is host:port of the /metrics listener of
-- a scheduler, DAG processor or worker that has no web server, so that
-- operators and the control plane find every process's metrics from the
-- job table (the port falls back to a free one when the configured
-- metrics.metrics_port is taken on the host).
ALTER TABLE job ADD COLUMN metrics_addr TEXT;
