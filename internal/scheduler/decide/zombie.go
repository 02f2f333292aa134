package decide

import "time"

// ZombieCutoff returns the heartbeat before which a running try is
// presumed dead at now (Airflow's scheduler_zombie_task_threshold), and
// false while no try may be presumed dead yet.
//
// Where Windsock departs from Airflow: a heartbeat is only missing if the
// scheduler could have seen it. So the threshold counts from the later of
// the last heartbeat and contactSince, when this scheduler last began to
// reach the database (it started, or the database came back after an
// outage). After an outage every heartbeat is old, yet the workers are
// alive: they record the tries that ended meanwhile (kept in their
// journals) and heartbeat the running ones within a few seconds, long
// before a threshold has passed. A worker that does not is dead or cut off
// and its tries are failed as in Airflow; a cut-off worker has stopped
// them itself after half the threshold, so a retry never runs beside them.
func ZombieCutoff(now, contactSince time.Time, threshold time.Duration) (time.Time, bool) {
	if now.Sub(contactSince) <= threshold {
		return time.Time{}, false
	}
	return now.Add(-threshold), true
}
