package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// JobCreate inserts a job and sets j.ID.
func (q *queries) JobCreate(ctx context.Context, j *windsock.Job) error {
	var pid any
	if j.PID > 0 {
		pid = j.PID
	}
	if err := q.queryRow(ctx, `INSERT INTO job (dag_id, state, job_type, start_date, end_date,
			latest_heartbeat, executor_class, hostname, unixname, pid, process_start, log_server, metrics_addr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		str(j.DagID), j.State, j.JobType, ts(j.StartDate), tsPtr(j.EndDate), ts(j.LatestHeartbeat),
		str(j.ExecutorClass), str(j.Hostname), str(j.Unixname), pid, str(j.ProcessStart), str(j.LogServer), str(j.MetricsAddr)).Scan(&j.ID); err != nil {
		return fmt.Errorf("create %s job: %w", j.JobType, err)
	}
	return nil
}

// JobHeartbeat sets latest_heartbeat; a job a scheduler ended as dead
// (a worker cut off for longer than worker_health_check_threshold) that
// heartbeats again is running again.
func (q *queries) JobHeartbeat(ctx context.Context, id int64, at time.Time) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "job %d not found", id),
		`UPDATE job SET latest_heartbeat = ?,
			state = CASE WHEN state = ? AND job_type = ? THEN ? ELSE state END,
			end_date = CASE WHEN state = ? AND job_type = ? THEN NULL ELSE end_date END
		WHERE id = ?`,
		utc(at), windsock.JobFailed, windsock.JobTypeWorker, windsock.JobRunning, windsock.JobFailed, windsock.JobTypeWorker, id); err != nil {
		return fmt.Errorf("heartbeat job: %w", err)
	}
	return nil
}

// JobEnd sets state and end_date.
func (q *queries) JobEnd(ctx context.Context, id int64, state string, at time.Time) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "job %d not found", id),
		`UPDATE job SET state = ?, end_date = ? WHERE id = ?`, state, utc(at), id); err != nil {
		return fmt.Errorf("end job: %w", err)
	}
	return nil
}

// JobLatest returns the running job of a type with the newest heartbeat.
func (q *queries) JobLatest(ctx context.Context, jobType string) (*windsock.Job, error) {
	var j windsock.Job
	err := q.queryRow(ctx, `SELECT `+jobColumns+`
		FROM job WHERE job_type = ? AND state = ?
		ORDER BY latest_heartbeat DESC, id DESC LIMIT 1`, jobType, windsock.JobRunning).Scan(
		jobFields(&j)...)
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "no running %s job", jobType)
	case err != nil:
		return nil, fmt.Errorf("get latest job: %w", err)
	}
	return &j, nil
}

// JobList returns the jobs matching params, newest heartbeat first.
func (q *queries) JobList(ctx context.Context, p *store.JobListParams) ([]*windsock.Job, error) {
	var where []string
	var args []any
	for _, f := range []struct{ col, val string }{{"job_type", p.JobType}, {"state", p.State}, {"hostname", p.Hostname}} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	query := `SELECT ` + jobColumns + ` FROM job`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY latest_heartbeat DESC, id DESC"
	if p.Limit > 0 {
		query += " LIMIT " + strconv.Itoa(p.Limit)
	}
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	jobs, err := scanJobs(rows)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return jobs, nil
}

// scanJobs reads rows of the job columns JobList selects, and closes rows.
func scanJobs(rows *sql.Rows) ([]*windsock.Job, error) {
	defer rows.Close()
	var jobs []*windsock.Job
	for rows.Next() {
		var j windsock.Job
		if err := rows.Scan(jobFields(&j)...); err != nil {
			return nil, err
		}
		jobs = append(jobs, &j)
	}
	return jobs, rows.Err()
}

// jobColumns are the job columns every job query selects, in the order
// jobFields scans them.
const jobColumns = `id, dag_id, state, job_type, start_date, end_date,
	latest_heartbeat, executor_class, hostname, unixname, pid, process_start, log_server, metrics_addr`

// jobFields are the scan destinations of jobColumns.
func jobFields(j *windsock.Job) []any {
	return []any{&j.ID, nullString{&j.DagID}, nullString{&j.State}, nullString{&j.JobType},
		nullTime{&j.StartDate}, nullTimePtr{&j.EndDate}, nullTime{&j.LatestHeartbeat},
		nullString{&j.ExecutorClass}, nullString{&j.Hostname}, nullString{&j.Unixname},
		nullInt{&j.PID}, nullString{&j.ProcessStart}, nullString{&j.LogServer}, nullString{&j.MetricsAddr}}
}

// JobGet returns the job with id.
func (q *queries) JobGet(ctx context.Context, id int64) (*windsock.Job, error) {
	var j windsock.Job
	err := q.queryRow(ctx, `SELECT `+jobColumns+` FROM job WHERE id = ?`, id).Scan(jobFields(&j)...)
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "job %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("get job: %w", err)
	}
	return &j, nil
}
