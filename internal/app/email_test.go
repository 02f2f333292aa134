package app

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/windsock/windsock/internal/datapipeline"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// mailSession hands each message a real SMTP server receives to a channel.
type mailSession struct{ got chan<- string }

func (s mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.got <- "RCPT " + to
	return nil
}
func (s mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.got <- string(b)
	return err
}
func (s mailSession) Reset()        {}
func (s mailSession) Logout() error { return nil }

// startSMTP starts a real SMTP server for the test; each recipient
// ("RCPT addr") and each message's text arrive on the channel. The
// connection is an smtp_default that points at it.
func startSMTP(t *testing.T) (<-chan string, *secrets.Connection) {
	t.Helper()
	got := make(chan string, 32)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return mailSession{got}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return got, &secrets.Connection{ConnID: "smtp_default", ConnType: "smtp", Host: host, Port: p,
		Extra: `{"disable_tls": true, "from_email": "windsock@example.com"}`}
}

// TestTaskAlertEmails: a task with `email` sends Airflow's alert email
// when a try fails (email_on_failure) and when it will be retried
// (email_on_retry), each switchable off; the subject is the task
// instance as Airflow prints it.
func TestTaskAlertEmails(t *testing.T) {
	t.Parallel()
	got, smtpConn := startSMTP(t)
	env := benchEnv(t, map[string]string{"alerts.yaml": `
alerts:
  schedule: null
  start_date: 2024-01-01
  default_args:
    email: ["ops@example.com", "oncall@example.com"]
  tasks:
    flaky:
      operator: airflow.operators.bash.BashOperator
      bash_command: "exit 1"
      retries: 1
      retry_delay_sec: 0
    quiet:
      operator: airflow.operators.bash.BashOperator
      bash_command: "exit 1"
      email_on_failure: false
    retry_only:
      operator: airflow.operators.bash.BashOperator
      bash_command: "exit 1"
      retries: 1
      retry_delay_sec: 0
      email: team@example.com
      email_on_failure: false
`})
	if err := env.Connections.Add(context.Background(), smtpConn); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, "alerts", day, nil)
	if tis := states(t, env, run); tis["flaky"].State != "failed" || tis["quiet"].State != "failed" {
		t.Fatalf("flaky %s, quiet %s: want both failed", tis["flaky"].State, tis["quiet"].State)
	}
	// Three alerts are due; a try's email is sent just after its state is
	// recorded, so the last may arrive after the run has ended.
	var subjects []string
	rcpts := map[string]int{}
	take := func(m string) {
		if a, ok := strings.CutPrefix(m, "RCPT "); ok {
			rcpts[a]++
			return
		}
		for _, line := range strings.Split(m, "\r\n") {
			if s, ok := strings.CutPrefix(line, "Subject: "); ok {
				subjects = append(subjects, s)
			}
		}
	}
	for len(subjects) < 3 {
		select {
		case m := <-got:
			take(m)
		case <-time.After(60 * time.Second):
			t.Fatalf("only %d alert emails arrived: %q", len(subjects), subjects)
		}
	}
	for len(got) > 0 {
		take(<-got)
	}
	sort.Strings(subjects)
	want := []string{
		"Airflow alert: <TaskInstance: alerts.flaky " + run.RunID + " [failed]>",
		"Airflow alert: <TaskInstance: alerts.flaky " + run.RunID + " [up_for_retry]>",
		"Airflow alert: <TaskInstance: alerts.retry_only " + run.RunID + " [up_for_retry]>",
	}
	if strings.Join(subjects, "\n") != strings.Join(want, "\n") {
		t.Errorf("alert subjects:\n%s\nwant:\n%s", strings.Join(subjects, "\n"), strings.Join(want, "\n"))
	}
	if rcpts["ops@example.com"] != 2 || rcpts["oncall@example.com"] != 2 || rcpts["team@example.com"] != 1 {
		t.Errorf("recipients %v: want ops and oncall twice (flaky), team once (retry_only's retry)", rcpts)
	}
}

// TestDataPipelineAlarmByEmail: converted with --alarm-email, an onFail
// SnsAlarm becomes an email callback that the engine sends through the
// environment's smtp_default connection, with the instance's values in
// its subject and body.
func TestDataPipelineAlarmByEmail(t *testing.T) {
	t.Parallel()
	got, smtpConn := startSMTP(t)
	def, err := datapipeline.Parse([]byte(`{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Alarm", "type": "SnsAlarm", "topicArn": "arn:aws:sns:us-east-1:1:etl", "role": "r",
   "subject": "#{node.name} failed", "message": "pipeline #{node.@pipelineId} failed"},
  {"id": "Extract", "type": "ShellCommandActivity", "command": "exit 3", "onFail": {"ref": "Alarm"}}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := datapipeline.Convert(def, datapipeline.Options{Source: "pipeline.json", AlarmEmail: "ops@example.com"})
	if res.YAML == nil {
		t.Fatalf("not converted: %+v", res.Report.Problems)
	}
	if strings.Contains(string(res.YAML), "topic_arn") {
		t.Errorf("with --alarm-email the DAG still publishes to SNS:\n%s", res.YAML)
	}
	env := benchEnv(t, map[string]string{"pipeline.yaml": string(res.YAML)})
	if err := env.Connections.Add(context.Background(), smtpConn); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	er.trigger(t, res.Report.DagID, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	var rcpt, body string
	for rcpt == "" || body == "" {
		select {
		case m := <-got:
			if strings.HasPrefix(m, "RCPT ") {
				rcpt = m
			} else {
				body = m
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the onFail alarm sent no email")
		}
	}
	if rcpt != "RCPT ops@example.com" {
		t.Errorf("sent to %q, want ops@example.com", rcpt)
	}
	if !strings.Contains(body, "Subject: Extract failed") || !strings.Contains(body, "pipeline pipeline failed") {
		t.Errorf("the email lacks the alarm's subject or message:\n%s", body)
	}
}

// TestDataPipelineLateActionEmail: an activity still running
// lateAfterTimeout after its scheduled start misses its SLA, and the
// onLateAction SnsAlarm (sent by email with --alarm-email) goes out once
// as the DAG's sla_miss_callback, naming the late task.
func TestDataPipelineLateActionEmail(t *testing.T) {
	t.Parallel()
	got, smtpConn := startSMTP(t)
	def, err := datapipeline.Parse([]byte(`{"objects": [
  {"id": "Default", "scheduleType": "cron", "schedule": {"ref": "Once"}, "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Once", "type": "Schedule", "period": "1 day", "startDateTime": "2024-03-01T00:00:00", "occurrences": "1"},
  {"id": "Late", "type": "SnsAlarm", "topicArn": "arn:aws:sns:us-east-1:1:etl", "role": "r",
   "subject": "#{node.name} is late", "message": "late in #{node.@pipelineId}"},
  {"id": "Slow", "type": "ShellCommandActivity", "command": "while [ ! -f \"$SIDE/go\" ]; do sleep 0.05; done",
   "lateAfterTimeout": "1 minute", "onLateAction": {"ref": "Late"}}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := datapipeline.Convert(def, datapipeline.Options{Source: "late.json", AlarmEmail: "ops@example.com"})
	if res.YAML == nil || !strings.Contains(string(res.YAML), "sla_miss_callback") {
		t.Fatalf("no sla_miss_callback in:\n%s\n%+v", res.YAML, res.Report.Problems)
	}
	side := t.TempDir()
	env := benchEnv(t, map[string]string{"late.yaml": string(res.YAML)}, "SIDE="+side)
	if err := env.Connections.Add(context.Background(), smtpConn); err != nil {
		t.Fatal(err)
	}
	startEngine(t, env, nil)
	body := nextBody(t, got, "the late activity's alarm sent no email")
	if !strings.Contains(body, "Subject: Slow is late") || !strings.Contains(body, "late in late") {
		t.Errorf("the alarm email lacks its subject or message:\n%s", body)
	}
	misses, err := env.Store.SlaMissList(context.Background(), res.Report.DagID)
	if err != nil || len(misses) != 1 || misses[0].TaskID != "Slow" || !misses[0].NotificationSent {
		t.Errorf("sla misses %+v (%v): want Slow's, notified", misses, err)
	}
	if err := os.WriteFile(filepath.Join(side, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPythonSLAMissCallback: a Python DAG file's sla_miss_callback is
// called once, as Airflow calls it: (dag, task_list, blocking_task_list,
// slas, blocking_tis), with one "task on date" line per miss.
func TestPythonSLAMissCallback(t *testing.T) {
	t.Parallel()
	env, side := pyEnv(t, map[string]string{"sla.py": `
import json, os
from datetime import datetime, timedelta
from airflow import DAG
from airflow.operators.bash import BashOperator

def missed(dag, task_list, blocking_task_list, slas, blocking_tis):
    side = os.environ["SIDE"]
    n = len([name for name in os.listdir(side) if name.startswith("sla-")])
    # Written aside and renamed: the test reads the file as soon as its
    # name appears.
    with open(os.path.join(side, "tmp-%d" % n), "w") as f:
        json.dump({"dag": dag.dag_id, "task_list": task_list, "slas": [[s.task_id, s.execution_date.isoformat()] for s in slas],
                   "blocking": [blocking_task_list, blocking_tis]}, f)
    os.rename(os.path.join(side, "tmp-%d" % n), os.path.join(side, "sla-%d.json" % n))

with DAG("py_sla", schedule="@daily", start_date=datetime(2024, 3, 1), end_date=datetime(2024, 3, 1),
         catchup=True, sla_miss_callback=missed) as dag:
    BashOperator(task_id="slow", bash_command='while [ ! -f "$SIDE/go" ]; do sleep 0.05; done', sla=timedelta(seconds=1))
`})
	startEngine(t, env, nil)
	// The callback runs in the DAG file's Python and leaves only its file:
	// wait for the file to appear.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(side, "sla-0.json")); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	raw, err := os.ReadFile(filepath.Join(side, "sla-0.json"))
	if err != nil {
		t.Fatalf("the sla_miss_callback was not called: %v", err)
	}
	got := strings.ReplaceAll(string(raw), " ", "")
	want := `{"dag":"py_sla","task_list":"slowon2024-03-01T00:00:00+00:00","slas":[["slow","2024-03-01T00:00:00+00:00"]],"blocking":["",[]]}`
	if got != want {
		t.Errorf("the callback saw %s\nwant %s", got, want)
	}
	if err := os.WriteFile(filepath.Join(side, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Once: by the time the run has succeeded, the scheduler has passed
	// over the miss many times, and no second call came.
	waitRunState(t, env, "py_sla", windsock.DagRunSuccess)
	if _, err := os.Stat(filepath.Join(side, "sla-1.json")); err == nil {
		t.Error("the sla_miss_callback was called twice for one miss")
	}
}

// waitRunState waits until the DAG's only run is in state.
func waitRunState(t *testing.T, env *Environment, dagID string, state windsock.DagRunState) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		runs, err := env.Store.DagRunList(context.Background(), &store.DagRunListParams{DagID: dagID})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && runs[0].State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs of %s: %v, want one %s", dagID, runs, state)
		}
		time.Sleep(20 * time.Millisecond) // the scheduler's own run: polled, as the UI would
	}
}

// TestSLAMissEmail: tasks that miss their SLA and name recipients in
// `email` send Airflow's "[airflow] SLA miss on DAG=..." email once,
// listing the late task.
func TestSLAMissEmail(t *testing.T) {
	t.Parallel()
	got, smtpConn := startSMTP(t)
	side := t.TempDir()
	env := benchEnv(t, map[string]string{"late.yaml": `
late_dag:
  schedule: "@daily"
  start_date: 2024-03-01
  end_date: 2024-03-01
  catchup: true
  tasks:
    slow:
      operator: airflow.operators.bash.BashOperator
      bash_command: 'while [ ! -f "$SIDE/go" ]; do sleep 0.05; done'
      sla_secs: 1
      email: ["ops@example.com"]
`}, "SIDE="+side)
	if err := env.Connections.Add(context.Background(), smtpConn); err != nil {
		t.Fatal(err)
	}
	startEngine(t, env, nil)
	body := nextBody(t, got, "no SLA miss email")
	if !strings.Contains(body, "Subject: [airflow] SLA miss on DAG=late_dag") || !strings.Contains(body, "slow on 2024-03-01T00:00:00+00:00") {
		t.Errorf("the SLA email:\n%s", body)
	}
	if err := os.WriteFile(filepath.Join(side, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitRunState(t, env, "late_dag", windsock.DagRunSuccess)
	for len(got) > 0 {
		if m := <-got; !strings.HasPrefix(m, "RCPT ") {
			t.Errorf("a second SLA email:\n%s", m)
		}
	}
}

// nextBody waits for the next message body the SMTP server took (not its
// RCPT lines), failing with what when none comes.
func nextBody(t *testing.T, got <-chan string, what string) string {
	t.Helper()
	for {
		select {
		case m := <-got:
			if !strings.HasPrefix(m, "RCPT ") {
				return m
			}
		case <-time.After(60 * time.Second):
			t.Fatal(what)
		}
	}
}
