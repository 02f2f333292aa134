package app

import (
	"net/http"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/operator/email"
	"github.com/windsock/windsock/internal/operator/empty"
	httpop "github.com/windsock/windsock/internal/operator/http"
	"github.com/windsock/windsock/internal/operator/sensors"
)

// OperatorRegistry returns the operators this environment runs, keyed by
// the catalog's short names. Built once per environment.
func (e *Environment) OperatorRegistry() *operator.Registry {
	if e.registry != nil {
		return e.registry
	}
	grace := e.Config.Core.KilledTaskCleanupTime
	client := &http.Client{Timeout: 5 * time.Minute}
	r := operator.NewRegistry()
	r.Add("empty", empty.New())
	r.Add("bash", bash.New(bash.Options{KillGrace: grace}))
	r.Add("bash_sensor", bash.NewSensor(bash.Options{KillGrace: grace}))
	r.Add("http", httpop.New(client))
	r.Add("http_sensor", httpop.NewSensor(client))
	r.Add("email", email.New())
	r.Add("file_sensor", sensors.NewFileSensor())
	r.Add("sql_sensor", sensors.NewSqlSensor())
	r.Add("time_delta_sensor", sensors.NewTimeDeltaSensor())
	r.Add("date_time_sensor", sensors.NewDateTimeSensor())
	r.Add("external_task_sensor", sensors.NewExternalTaskSensor())
	e.addPythonOperators(r, grace)
	e.registry = r
	return r
}
