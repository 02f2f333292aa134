package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// dagJSON is Airflow's DAG: the dag row as the REST API shows it. The
// fields Windsock has no use for (subdags, pickling, scheduler locks) are
// there with Airflow's values for a DAG that has none.
type dagJSON struct {
	DagID                       string          `json:"dag_id"`
	DagDisplayName              string          `json:"dag_display_name"`
	RootDagID                   *string         `json:"root_dag_id"`
	IsPaused                    bool            `json:"is_paused"`
	IsActive                    bool            `json:"is_active"`
	IsSubdag                    bool            `json:"is_subdag"`
	LastParsedTime              *time.Time      `json:"last_parsed_time"`
	LastPickled                 *time.Time      `json:"last_pickled"`
	LastExpired                 *time.Time      `json:"last_expired"`
	SchedulerLock               *bool           `json:"scheduler_lock"`
	PickleID                    *string         `json:"pickle_id"`
	DefaultView                 *string         `json:"default_view"`
	Fileloc                     string          `json:"fileloc"`
	FileToken                   string          `json:"file_token"`
	Owners                      []string        `json:"owners"`
	Description                 *string         `json:"description"`
	ScheduleInterval            json.RawMessage `json:"schedule_interval"`
	TimetableDescription        *string         `json:"timetable_description"`
	Tags                        []named         `json:"tags"`
	MaxActiveTasks              int             `json:"max_active_tasks"`
	MaxActiveRuns               int             `json:"max_active_runs"`
	MaxConsecutiveFailedDagRuns int             `json:"max_consecutive_failed_dag_runs"`
	HasTaskConcurrencyLimits    bool            `json:"has_task_concurrency_limits"`
	HasImportErrors             bool            `json:"has_import_errors"`
	NextDagrun                  *time.Time      `json:"next_dagrun"`
	NextDagrunDataIntervalStart *time.Time      `json:"next_dagrun_data_interval_start"`
	NextDagrunDataIntervalEnd   *time.Time      `json:"next_dagrun_data_interval_end"`
	NextDagrunCreateAfter       *time.Time      `json:"next_dagrun_create_after"`
}

// dagDetailJSON is Airflow's DAGDetail: the DAG and what its definition
// says.
type dagDetailJSON struct {
	dagJSON
	Catchup                   bool                 `json:"catchup"`
	Concurrency               int                  `json:"concurrency"`
	DagRunTimeout             *timeDelta           `json:"dag_run_timeout"`
	DatasetExpression         map[string]any       `json:"dataset_expression"`
	DocMD                     *string              `json:"doc_md"`
	EndDate                   *time.Time           `json:"end_date"`
	IsPausedUponCreation      bool                 `json:"is_paused_upon_creation"`
	LastParsed                *time.Time           `json:"last_parsed"`
	Orientation               string               `json:"orientation"`
	Params                    map[string]paramJSON `json:"params"`
	RenderTemplateAsNativeObj bool                 `json:"render_template_as_native_obj"`
	StartDate                 *time.Time           `json:"start_date"`
	TemplateSearchPath        []string             `json:"template_search_path"`
	Timezone                  string               `json:"timezone"`
}

// timeDelta is Airflow's TimeDelta: a duration split as Python's
// timedelta holds it.
type timeDelta struct {
	Type         string `json:"__type"`
	Days         int64  `json:"days"`
	Seconds      int64  `json:"seconds"`
	Microseconds int64  `json:"microseconds"`
}

// timeDeltaOf splits d into days, seconds and microseconds.
func timeDeltaOf(d time.Duration) *timeDelta {
	us := d.Microseconds()
	return &timeDelta{Type: "TimeDelta", Days: us / 86_400_000_000, Seconds: us / 1_000_000 % 86_400, Microseconds: us % 1_000_000}
}

// optionalTimeDelta is timeDeltaOf, or nil (JSON null) for no duration,
// as Airflow shows an unset timeout.
func optionalTimeDelta(d windsock.Duration) *timeDelta {
	if d <= 0 {
		return nil
	}
	return timeDeltaOf(d.Std())
}

// paramJSON is a DAG param as Airflow's Param.dump() writes it.
type paramJSON struct {
	Class       string         `json:"__class"`
	Value       any            `json:"value"`
	Description *string        `json:"description"`
	Schema      map[string]any `json:"schema"`
}

// paramsOut wraps each param of d in Airflow's Param form, with the
// description and schema of those a Python file declared with Param.
func paramsOut(d *windsock.DAG) map[string]paramJSON {
	out := make(map[string]paramJSON, len(d.Params))
	for k, v := range d.Params {
		p := paramJSON{Class: "airflow.models.param.Param", Value: v, Schema: map[string]any{}}
		if spec, ok := d.ParamSpecs[k]; ok {
			p.Description = spec.Description
			if spec.Schema != nil {
				p.Schema = spec.Schema
			}
		}
		out[k] = p
	}
	return out
}

// dagFields are the field names of a DAG, for the fields parameter.
func dagFields() []string { return jsonFieldNames(dagJSON{}) }

// dagDetailFields are the field names of a DAGDetail.
func dagDetailFields() []string { return jsonFieldNames(dagDetailJSON{}) }

// jsonFieldNames returns the keys v encodes to.
func jsonFieldNames(v any) []string {
	b, _ := json.Marshal(v) // plain structs of plain fields always encode
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	return names
}

// dagOut is the DAG of a dag row.
func (s *Server) dagOut(m *windsock.DAGModel) dagJSON {
	tags := make([]named, len(m.Tags))
	for i, t := range m.Tags {
		tags[i] = named{t}
	}
	return dagJSON{
		DagID:                       m.DagID,
		DagDisplayName:              m.DagID,
		IsPaused:                    m.IsPaused,
		IsActive:                    m.IsActive,
		LastParsedTime:              utcPtr(m.LastParsedTime),
		DefaultView:                 stringOrNil(m.DefaultView),
		Fileloc:                     m.Fileloc,
		FileToken:                   s.fileToken(m.Fileloc),
		Owners:                      ownersOut(m.Owners),
		Description:                 stringOrNil(m.Description),
		ScheduleInterval:            ScheduleIntervalJSON(m.ScheduleInterval),
		TimetableDescription:        stringOrNil(m.TimetableDescription),
		Tags:                        tags,
		MaxActiveTasks:              m.MaxActiveTasks,
		MaxActiveRuns:               m.MaxActiveRuns,
		HasTaskConcurrencyLimits:    m.HasTaskConcurrencyLimits,
		HasImportErrors:             m.HasImportErrors,
		NextDagrun:                  utcPtr(m.NextDagrun),
		NextDagrunDataIntervalStart: utcPtr(m.NextDagrunDataIntervalStart),
		NextDagrunDataIntervalEnd:   utcPtr(m.NextDagrunDataIntervalEnd),
		NextDagrunCreateAfter:       utcPtr(m.NextDagrunCreateAfter),
	}
}

// dagDetailOut is the DAGDetail of a dag row and its definition.
func (s *Server) dagDetailOut(m *windsock.DAGModel, d *windsock.DAG) dagDetailJSON {
	tz := d.Timezone
	if tz == "" {
		tz = "UTC"
	}
	return dagDetailJSON{
		dagJSON:              s.dagOut(m),
		Catchup:              d.Catchup,
		Concurrency:          d.MaxActiveTasks,
		DatasetExpression:    datasetExpressionOut(d.Schedule.Datasets),
		DagRunTimeout:        optionalTimeDelta(d.DagrunTimeout),
		DocMD:                stringOrNil(d.DocMD),
		EndDate:              utcPtr(d.EndDate),
		IsPausedUponCreation: d.IsPausedUponCreation,
		LastParsed:           utcPtr(m.LastParsedTime),
		// webserver.dag_orientation's default.
		Orientation:               "LR",
		Params:                    paramsOut(d),
		RenderTemplateAsNativeObj: d.RenderTemplateAsNativeObj,
		StartDate:                 utcPtr(d.StartDate),
		Timezone:                  tz,
	}
}

// ownersOut splits the owners column. Airflow joins owners with ", " and
// splits on ","; the spaces are trimmed here rather than shown.
func ownersOut(owners string) []string {
	out := []string{}
	for _, o := range strings.Split(owners, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// ScheduleIntervalJSON turns the schedule_interval column (JSON, as
// Airflow stores it) into Airflow's ScheduleInterval: a CronExpression for
// a cron expression or preset, a TimeDelta or RelativeDelta for an
// interval, null for none. The CLI's dags list prints it too.
func ScheduleIntervalJSON(stored string) json.RawMessage {
	null := json.RawMessage("null")
	if stored == "" {
		return null
	}
	var v any
	if err := json.Unmarshal([]byte(stored), &v); err != nil {
		return null
	}
	var out any
	switch x := v.(type) {
	case string:
		out = map[string]string{"__type": "CronExpression", "value": x}
	case map[string]any:
		attrs, _ := x["attrs"].(map[string]any)
		switch x["type"] {
		case "timedelta":
			out = timeDelta{Type: "TimeDelta", Days: int64Of(attrs["days"]), Seconds: int64Of(attrs["seconds"]),
				Microseconds: int64Of(attrs["microseconds"])}
		case "relativedelta":
			rd := map[string]any{"__type": "RelativeDelta"}
			for k, a := range attrs {
				rd[k] = a
			}
			out = rd
		}
	}
	if out == nil {
		return null
	}
	b, err := json.Marshal(out)
	if err != nil {
		return null
	}
	return b
}

func int64Of(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

// fileToken is the DAG's file_token: the fileloc hash (the key of the
// dag_code table) and an HMAC of it with webserver.secret_key, so that a
// client can only ask for the sources of files the server named.
func (s *Server) fileToken(fileloc string) string {
	id := strconv.FormatInt(windsock.FilelocHash(fileloc), 10)
	return id + "." + s.fileTokenMAC(id)
}

func (s *Server) fileTokenMAC(id string) string {
	mac := hmac.New(sha256.New, []byte(s.cfg.Webserver.SecretKey))
	mac.Write([]byte("dagSources:" + id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// filelocHashOf checks a file token and returns the fileloc hash it
// carries; false for anything the server did not sign.
func (s *Server) filelocHashOf(token string) (int64, bool) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || id == "" || len(id) > 20 || strings.Trim(id, "0123456789") != "" {
		return 0, false
	}
	if !hmac.Equal([]byte(sig), []byte(s.fileTokenMAC(id))) {
		return 0, false
	}
	h, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, false
	}
	return h, true
}
