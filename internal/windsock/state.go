package windsock

// TaskInstanceState is the state of one task instance, with Airflow's names.
// The empty state is Airflow's "none": created but not yet scheduled.
type TaskInstanceState string

// Task instance states, as Airflow 2.10 names them.
const (
	TaskStateNone            TaskInstanceState = ""
	TaskStateRemoved         TaskInstanceState = "removed"
	TaskStateScheduled       TaskInstanceState = "scheduled"
	TaskStateQueued          TaskInstanceState = "queued"
	TaskStateRunning         TaskInstanceState = "running"
	TaskStateSuccess         TaskInstanceState = "success"
	TaskStateRestarting      TaskInstanceState = "restarting"
	TaskStateFailed          TaskInstanceState = "failed"
	TaskStateUpForRetry      TaskInstanceState = "up_for_retry"
	TaskStateUpForReschedule TaskInstanceState = "up_for_reschedule"
	TaskStateUpstreamFailed  TaskInstanceState = "upstream_failed"
	TaskStateSkipped         TaskInstanceState = "skipped"
	TaskStateDeferred        TaskInstanceState = "deferred"
)

// Finished reports whether s is a terminal state: nothing more will run
// unless the task instance is cleared.
func (s TaskInstanceState) Finished() bool {
	switch s {
	case TaskStateSuccess, TaskStateFailed, TaskStateSkipped, TaskStateUpstreamFailed, TaskStateRemoved:
		return true
	}
	return false
}

// DagRunState is the state of a DAG run.
type DagRunState string

// DAG run states.
const (
	DagRunQueued  DagRunState = "queued"
	DagRunRunning DagRunState = "running"
	DagRunSuccess DagRunState = "success"
	DagRunFailed  DagRunState = "failed"
)

// TriggerRule decides when a task may run given the states of its upstream
// tasks.
type TriggerRule string

// Trigger rules, as Airflow 2.10 names them.
const (
	TriggerAllSuccess              TriggerRule = "all_success"
	TriggerAllFailed               TriggerRule = "all_failed"
	TriggerAllDone                 TriggerRule = "all_done"
	TriggerAllDoneSetupSuccess     TriggerRule = "all_done_setup_success"
	TriggerAllSkipped              TriggerRule = "all_skipped"
	TriggerOneSuccess              TriggerRule = "one_success"
	TriggerOneFailed               TriggerRule = "one_failed"
	TriggerOneDone                 TriggerRule = "one_done"
	TriggerNoneFailed              TriggerRule = "none_failed"
	TriggerNoneFailedMinOneSuccess TriggerRule = "none_failed_min_one_success"
	TriggerNoneSkipped             TriggerRule = "none_skipped"
	TriggerAlways                  TriggerRule = "always"
)

// TriggerRules lists every rule Windsock accepts, in Airflow's order.
func TriggerRules() []TriggerRule {
	return []TriggerRule{
		TriggerAllSuccess, TriggerAllFailed, TriggerAllDone, TriggerAllDoneSetupSuccess,
		TriggerAllSkipped, TriggerOneSuccess, TriggerOneFailed, TriggerOneDone,
		TriggerNoneFailed, TriggerNoneFailedMinOneSuccess, TriggerNoneSkipped, TriggerAlways,
	}
}

// ParseTriggerRule returns the rule named s, accepting Airflow's deprecated
// aliases ("dummy", "none_failed_or_skipped").
func ParseTriggerRule(s string) (TriggerRule, bool) {
	switch s {
	case "dummy":
		return TriggerAlways, true
	case "none_failed_or_skipped":
		return TriggerNoneFailedMinOneSuccess, true
	}
	for _, r := range TriggerRules() {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// WeightRule decides how a task's effective priority weight is computed.
type WeightRule string

// Weight rules.
const (
	WeightDownstream WeightRule = "downstream"
	WeightUpstream   WeightRule = "upstream"
	WeightAbsolute   WeightRule = "absolute"
)

// ParseWeightRule returns the weight rule named s.
func ParseWeightRule(s string) (WeightRule, bool) {
	switch WeightRule(s) {
	case WeightDownstream, WeightUpstream, WeightAbsolute:
		return WeightRule(s), true
	}
	return "", false
}
