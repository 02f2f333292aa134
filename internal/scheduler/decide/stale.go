package decide

import "time"

// Contact is what a scheduler knows of its own access to the metadata
// database.
type Contact struct {
	// Since is when it last began to reach the database: it started, or
	// the database came back after an outage.
	Since time.Time
	// Lost is set while its last attempt to reach the database (its
	// heartbeat) failed.
	Lost bool
}

// StaleBefore returns the time before which something the scheduler waits
// for is overdue at now, given limit: the heartbeat before which a running
// try is presumed dead (scheduler_zombie_task_threshold), or the
// queued_dttm before which a queued task instance is failed
// (task_queued_timeout). It returns false while nothing may be overdue.
//
// Where Windsock departs from Airflow: a heartbeat or a claim is only
// missing if the scheduler could have seen it. So nothing is overdue while
// the scheduler itself cannot reach the database, and the limit counts
// from the later of the last sign and c.Since. After an outage
// every heartbeat is old, yet the workers are alive: they record the tries
// that ended meanwhile (kept in their journals) and heartbeat the running
// ones within seconds, long before a threshold has passed (and claim what was queued). A worker that
// does not is dead or cut off, and its tries are failed as in Airflow; a
// cut-off worker has stopped them itself after half the threshold, so a
// retry never runs beside them.
func StaleBefore(now time.Time, c Contact, limit time.Duration) (time.Time, bool) {
	if c.Lost || now.Sub(c.Since) <= limit {
		return time.Time{}, false
	}
	return now.Add(-limit), true
}
