package app

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/windsock/windsock/internal/datapipeline"
	"github.com/windsock/windsock/internal/secrets"
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

// TestDataPipelineAlarmByEmail: converted with --alarm-email, an onFail
// SnsAlarm becomes an email callback that the engine sends through the
// environment's smtp_default connection, with the instance's values in
// its subject and body.
func TestDataPipelineAlarmByEmail(t *testing.T) {
	t.Parallel()
	got := make(chan string, 8)
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return mailSession{got}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

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
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	if err := env.Connections.Add(context.Background(), &secrets.Connection{ConnID: "smtp_default", ConnType: "smtp",
		Host: host, Port: p, Extra: `{"disable_tls": true, "from_email": "windsock@example.com"}`}); err != nil {
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
