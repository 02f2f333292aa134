CREATE TABLE IF NOT EXISTS events (id INTEGER, event_date TEXT);
CREATE TABLE IF NOT EXISTS daily_summary (day TEXT, total INTEGER);
