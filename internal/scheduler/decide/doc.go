// Package decide holds the scheduler's decisions as pure functions: a DAG's
// structure and a run's task instance states go in, a plan comes out (which
// instances to schedule, which to mark upstream_failed or skipped, whether
// the run is finished, which scheduled instances may be queued under the
// pool and concurrency limits, when a failed try may be retried).
//
// Nothing here does I/O, reads the clock or starts goroutines; the scheduler
// loop gathers a snapshot from the store, calls these functions and applies
// what they return. The rules follow Airflow 2.10 (trigger_rule_dep.py,
// DagRun.update_state, TaskInstance.next_retry_datetime, the scheduler
// job's _executable_task_instances_to_queued); where Windsock departs from
// Airflow the doc comment says so.
package decide
