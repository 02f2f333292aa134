-- 007 drops two of 002's indexes. Every index holding state is rewritten
-- at each of the three state changes of a try, two pages a change. The
-- rows these two served are few: running task instances (zombie checks)
-- number at most the slots of the live workers, and up_for_retry or
-- up_for_reschedule ones (due retries) those waiting out a delay. Both
-- reads still start from an index on state (ti_state_priority's leading
-- column) and filter the time on those rows.
DROP INDEX ti_state_next_retry_at;
DROP INDEX ti_state_last_heartbeat_at;
