-- 012 gives each executor's job row what a scheduler needs to tell whether
-- the process running a try is alive, and where the try's log is served
-- (none of these are Airflow's columns):
--   pid, process_start: the process (its pid and start time, so that a
--     later process reusing the pid is not taken for it); a scheduler on
--     the same host finds the tries of a crashed process at once.
--   log_server: host:port of the process's log server, where the web
--     servers fetch the logs of the tries it runs (several workers on one
--     host each listen on a port of their own).
ALTER TABLE job ADD COLUMN pid INTEGER;
ALTER TABLE job ADD COLUMN process_start TEXT;
ALTER TABLE job ADD COLUMN log_server TEXT;
