package decide

import (
	"crypto/sha1"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// MaxTaskRetryDelay is Airflow's [core] max_task_retry_delay default: no
// exponential backoff delay exceeds it, whatever the task's own cap.
const MaxTaskRetryDelay = 24 * time.Hour

// RetryDelay returns how long after the end of try tryNumber (the try that
// just failed, counting from 1) the task may be retried: Airflow 2.10's
// TaskInstance.next_retry_datetime minus the end date.
//
// Without retry_exponential_backoff it is the task's retry_delay. With it,
// the base is ceil(retry_delay_seconds * 2^(tryNumber-1)), at least 1 s
// (2.10 numbers tries from the first, so its exponent is try_number - 1,
// where earlier 2.x used try_number - 2 on a counter one ahead); a
// deterministic jitter adds the SHA-1 of
// "{dag_id}#{task_id}#{logical_date}#{try_number}" modulo the base, so the
// delay lies in [base, 2*base). That is capped at MaxTaskRetryDelay and
// then at the task's max_retry_delay when set. Only whole seconds result.
//
// The logical date is written as Python's str() of the UTC datetime the
// scheduler reads from the database ("2024-01-01 00:00:00+00:00", a space
// rather than the "T" of isoformat), which is what Airflow hashes.
func RetryDelay(task *windsock.Task, dagID string, logicalDate time.Time, tryNumber int) time.Duration {
	delay := task.RetryDelay.Std()
	if !task.RetryExponentialBackoff {
		return delay
	}
	capSecs := int64(MaxTaskRetryDelay / time.Second)
	var secs int64
	base := math.Ceil(delay.Seconds() * math.Pow(2, float64(tryNumber-1)))
	switch {
	case base >= float64(capSecs) || math.IsNaN(base):
		// The jittered delay is at least the base, so it is the cap;
		// this also keeps huge try numbers from overflowing.
		secs = capSecs
	default:
		minBackoff := max(int64(base), 1)
		key := dagID + "#" + task.TaskID + "#" + pyDatetimeStr(logicalDate) + "#" + strconv.Itoa(tryNumber)
		sum := sha1.Sum([]byte(key))
		jitter := new(big.Int).Mod(new(big.Int).SetBytes(sum[:]), big.NewInt(minBackoff)).Int64()
		secs = min(minBackoff+jitter, capSecs)
	}
	out := time.Duration(secs) * time.Second
	if limit := task.MaxRetryDelay.Std(); limit > 0 && limit < out {
		out = limit
	}
	return out
}

// pyDatetimeStr formats t in UTC the way Python's str(datetime) does.
func pyDatetimeStr(t time.Time) string {
	return strings.Replace(windsock.ISOFormat(t), "T", " ", 1)
}
