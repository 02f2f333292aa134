INSERT INTO daily_summary (day, total)
SELECT '{{ ds }}', count(*) FROM events WHERE event_date = '{{ ds }}';
