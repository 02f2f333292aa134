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

// ZombieCutoff returns the heartbeat before which a running try is
// presumed dead at now (Airflow's scheduler_zombie_task_threshold), and
// false while no try may be presumed dead.
//
// Where Windsock departs from Airflow: a heartbeat is only missing if the
// scheduler could have seen it. So nothing is presumed dead while the
// scheduler itself cannot reach the database, and the threshold counts
// from the later of a try's last heartbeat and c.Since. After an outage
// every heartbeat is old, yet the workers are alive: they record the tries
// that ended meanwhile (kept in their journals) and heartbeat the running
// ones within seconds, long before a threshold has passed. A worker that
// does not is dead or cut off, and its tries are failed as in Airflow; a
// cut-off worker has stopped them itself after half the threshold, so a
// retry never runs beside them.
func ZombieCutoff(now time.Time, c Contact, threshold time.Duration) (time.Time, bool) {
	if c.Lost || now.Sub(c.Since) <= threshold {
		return time.Time{}, false
	}
	return now.Add(-threshold), true
}
