package metaport

import (
	"slices"
	"strings"
)

// A Layout is how one of AWS's tools writes an environment's tables as
// CSV files, one per table, without a header: the file of each table, its
// columns in order and its delimiter. Written from the tools' column lists
// (aws-samples/amazon-mwaa-examples usecases/metadata-migration and
// aws-samples/mwaa-disaster-recovery); see the reference
// airflow-metadata-formats.md §3.
type Layout struct {
	// Name is what --format calls it.
	Name string
	// Version is the Airflow release whose schema the columns follow.
	Version string
	Files   []LayoutFile
	// Extras are files the tool does not write: Windsock's export adds
	// them so that a round trip keeps the tables the tool leaves out
	// (notes, the try history, mapped lengths, datasets), and its import
	// reads them. The tool's own restore reads only its files.
	Extras []LayoutFile
	// ActiveDAGs names the file listing the DAGs that were unpaused.
	ActiveDAGs string
}

// LayoutFile is one table's CSV file.
type LayoutFile struct {
	Table   string
	File    string
	Comma   rune
	Columns []string
}

// file returns the layout's file of a table.
func (l *Layout) file(table string) (LayoutFile, bool) {
	for _, f := range slices.Concat(l.Files, l.Extras) {
		if f.Table == table {
			return f, true
		}
	}
	return LayoutFile{}, false
}

func cols(s string) []string { return strings.Split(s, ",") }

// mwaa-dr's column lists are mostly alphabetical; each release adds a few.
const (
	drRun24 = "conf,creating_job_id,dag_hash,dag_id,data_interval_end,data_interval_start,end_date,execution_date,external_trigger,last_scheduling_decision,log_template_id,queued_at,run_id,run_type,start_date,state"
	drTI24  = "dag_id,map_index,run_id,task_id,duration,end_date,executor_config,external_executor_id,hostname,job_id,max_tries,next_kwargs,next_method,operator,pid,pool,pool_slots,priority_weight,queue,queued_by_job_id,queued_dttm,start_date,state,trigger_id,trigger_timeout,try_number,unixname"
	drLog24 = "dag_id,dttm,event,execution_date,extra,map_index,owner,task_id"
)

func drLayout(version string) *Layout {
	at := func(min string) bool { return compareVersions(version, min) >= 0 }
	run := drRun24
	if at("2.8") {
		run = "clear_number," + drRun24 + ",updated_at"
	}
	ti := cols(drTI24)
	insertAfter := func(after, col string) {
		i := slices.Index(ti, after)
		ti = slices.Insert(ti, i+1, col)
	}
	if at("2.5") {
		ti = append(ti, "updated_at")
	}
	if at("2.7") {
		insertAfter("task_id", "custom_operator_name")
	}
	if at("2.9") {
		insertAfter("queued_dttm", "rendered_map_index")
		insertAfter("state", "task_display_name")
	}
	if at("2.10") {
		insertAfter("end_date", "executor")
	}
	log := drLog24
	switch {
	case at("2.10"):
		log = "dag_id,dttm,event,execution_date,extra,map_index,owner,owner_display_name,run_id,task_id,try_number"
	case at("2.9"):
		log = "dag_id,dttm,event,execution_date,extra,map_index,owner,owner_display_name,run_id,task_id"
	case at("2.8"):
		log = "dag_id,dttm,event,execution_date,extra,map_index,owner,owner_display_name,task_id"
	}
	pool := "description,pool,slots"
	if at("2.7") {
		pool = "description,include_deferred,pool,slots"
	}
	extras := []LayoutFile{
		{"task_map", "task_map.csv", '|', cols("dag_id,task_id,run_id,map_index,length,keys")},
		{"dataset", "dataset.csv", '|', cols(ssDataset)},
		{"dataset_event", "dataset_event.csv", '|', cols(ssDatasetEvent)},
		{"dagrun_dataset_event", "dagrun_dataset_event.csv", '|', cols("dag_id,run_id,dataset_uri,timestamp")},
	}
	if at("2.5") {
		extras = append(extras,
			LayoutFile{"dag_run_note", "dag_run_note.csv", '|', cols("dag_id,run_id,content,created_at,updated_at")},
			LayoutFile{"task_instance_note", "task_instance_note.csv", '|', cols("dag_id,task_id,run_id,map_index,content,created_at,updated_at")})
	}
	if at("2.10") {
		extras = append(extras, LayoutFile{"task_instance_history", "task_instance_history.csv", '|', ti})
	}
	return &Layout{Name: "mwaa-dr-" + version, Version: version, ActiveDAGs: "active_dag.csv", Extras: extras, Files: []LayoutFile{
		{"variable", "variable.csv", ',', cols("key,val,description")},
		{"connection", "connection.csv", ',', cols("conn_id,conn_type,description,extra,host,login,password,port,schema")},
		{"slot_pool", "slot_pool.csv", '|', cols(pool)},
		{"log", "log.csv", '|', cols(log)},
		{"job", "job.csv", '|', cols("dag_id,end_date,executor_class,hostname,job_type,latest_heartbeat,start_date,state,unixname")},
		{"dag_run", "dag_run.csv", '|', cols(run)},
		{"task_instance", "task_instance.csv", '|', ti},
		{"task_fail", "task_fail.csv", '|', cols("dag_id,duration,end_date,map_index,run_id,start_date,task_id")},
		{"xcom", "xcom.csv", '|', cols("dag_run_id,key,map_index,task_id,dag_id,run_id,timestamp,value")},
		{"trigger", "trigger.csv", '|', cols("classpath,created_date,kwargs,triggerer_id")},
	}}
}

// The start-stop DAGs' dataset files (MWAA 2.4.3 to 2.8.1). Rows carry no
// ids: the restore into an empty database numbers datasets, events and
// runs in file order, and the files' ids mean those numbers.
const (
	ssDataset      = "uri,extra,created_at,updated_at"
	ssDatasetEvent = "dataset_id,extra,source_task_id,source_dag_id,source_run_id,source_map_index,timestamp"
)

// export_data.py, by the release of its target folder (2.0.2, 2.2.2,
// 2.4.3): comma-separated, no connections, no XComs.
const (
	edRun202 = "dag_id,execution_date,state,run_id,external_trigger,conf,end_date,start_date,run_type,last_scheduling_decision,dag_hash,creating_job_id"
	edTI202  = "task_id,dag_id,execution_date,start_date,end_date,duration,state,try_number,hostname,unixname,job_id,pool,queue,priority_weight,operator,queued_dttm,pid,max_tries,executor_config,pool_slots,queued_by_job_id,external_executor_id"
	edTI222  = "task_id,dag_id,start_date,end_date,duration,state,try_number,hostname,unixname,job_id,pool,queue,priority_weight,operator,queued_dttm,pid,max_tries,executor_config,pool_slots,queued_by_job_id,external_executor_id,trigger_id,trigger_timeout,next_method,next_kwargs,run_id"
	edTI243  = "task_id,dag_id,run_id,start_date,end_date,duration,state,try_number,hostname,unixname,job_id,pool,queue,priority_weight,operator,queued_dttm,pid,max_tries,executor_config,pool_slots,queued_by_job_id,external_executor_id,trigger_id,trigger_timeout,next_method,next_kwargs,map_index"
	edLog    = "dttm,dag_id,task_id,event,execution_date,owner,extra"
	edJob    = "dag_id,state,job_type,start_date,end_date,latest_heartbeat,executor_class,hostname,unixname"
)

func exportDataLayout(target string) *Layout {
	run, ti, log := edRun202, edTI202, edLog
	fail := "task_id,dag_id,execution_date,start_date,end_date,duration"
	switch target {
	case "2.2.2":
		run += ",queued_at,data_interval_start,data_interval_end"
		ti = edTI222
	case "2.4.3":
		run += ",queued_at,data_interval_start,data_interval_end,log_template_id"
		ti, log = edTI243, edLog+",map_index"
		fail = "task_id,dag_id,start_date,end_date,duration,map_index,run_id"
	}
	return &Layout{Name: "export_data-" + target, Version: target, ActiveDAGs: "active_dags.csv", Files: []LayoutFile{
		{"variable", "variable.csv", ',', cols("key,val,is_encrypted,description")},
		{"slot_pool", "slot_pool.csv", ',', cols("pool,slots,description")},
		{"log", "log.csv", ',', cols(log)},
		{"job", "job.csv", ',', cols(edJob)},
		{"dag_run", "dag_run.csv", ',', cols(run)},
		{"task_instance", "task_instance.csv", ',', cols(ti)},
		{"task_fail", "task_fail.csv", ',', cols(fail)},
	}}
}

// startStopLayout is the start-stop sample's mwaa_export_data DAG for one
// MWAA release (usecases/start-stop-mwaa-environment): comma-separated,
// with connections; unfinished task instances are not written.
func startStopLayout(release string) *Layout {
	at := func(min string) bool { return compareVersions(release, min) >= 0 }
	run := edRun202
	var ti string
	switch {
	case at("2.9.2"):
		ti = "task_id,dag_id,run_id,custom_operator_name,start_date,end_date,duration,state,task_display_name,try_number,hostname,unixname,job_id,pool,queue,priority_weight,operator,queued_dttm,rendered_map_index,pid,max_tries,executor_config,pool_slots,queued_by_job_id,external_executor_id,trigger_id,trigger_timeout,next_method,next_kwargs,map_index,updated_at"
	case at("2.4.3"):
		ti = edTI243
		if at("2.5.1") {
			ti += ",updated_at"
		}
		if at("2.7.2") {
			ti = strings.Replace(ti, "task_id,dag_id,run_id,", "task_id,dag_id,run_id,custom_operator_name,", 1)
		}
	case at("2.2.2"):
		ti = strings.TrimSuffix(edTI243, ",map_index")
	default:
		ti = edTI202
	}
	if at("2.2.2") {
		run += ",queued_at,data_interval_start,data_interval_end"
	}
	if at("2.4.3") {
		run += ",log_template_id"
	}
	if at("2.5.1") {
		run += ",updated_at"
	}
	if at("2.8.1") {
		run = "dag_id,clear_number," + strings.TrimPrefix(run, "dag_id,")
	}
	log := edLog
	switch {
	case at("2.9.2"):
		log = "dttm,dag_id,task_id,event,execution_date,owner,owner_display_name,run_id,extra"
	case at("2.8.1"):
		log = "dttm,dag_id,task_id,event,execution_date,owner,owner_display_name,extra"
	}
	fail := "task_id,dag_id,execution_date,start_date,end_date,duration"
	if at("2.4.3") {
		fail = "task_id,dag_id,run_id,map_index,start_date,end_date,duration"
	}
	l := &Layout{Name: "mwaa_export_data-" + release, Version: release, ActiveDAGs: "active_dags.csv", Files: []LayoutFile{
		{"variable", "variable.csv", ',', cols("key,val,is_encrypted,description")},
		// Its DictWriter is given the fields in one order and the values
		// in another: these are the columns as they land, two unused.
		{"connection", "connection.csv", ',', cols("conn_id,conn_type,description,host,login,password,schema,port,extra,_unused1,_unused2")},
		{"log", "log.csv", ',', cols(log)},
		{"job", "job.csv", ',', cols(edJob)},
		{"dag_run", "dag_run.csv", ',', cols(run)},
		{"task_instance", "task_instance.csv", ',', cols(ti)},
		{"task_fail", "task_fail.csv", ',', cols(fail)},
	}}
	if at("2.4.3") && !at("2.9.2") {
		l.Files = append(l.Files,
			LayoutFile{"dataset", "dataset.csv", ',', cols(ssDataset)},
			LayoutFile{"dag_schedule_dataset_reference", "dag_schedule_dataset_reference.csv", ',', cols("dataset_id,dag_id,created_at,updated_at")},
			LayoutFile{"dataset_event", "dataset_event.csv", ',', cols(ssDatasetEvent)},
			LayoutFile{"dataset_dag_run_queue", "dataset_dag_run_queue.csv", ',', cols("dataset_id,target_dag_id,created_at")},
			LayoutFile{"dagrun_dataset_event", "dagrun_dataset_event.csv", ',', cols("dag_run_id,event_id")})
	}
	if at("2.2.2") {
		l.Files = append(l.Files, LayoutFile{"trigger", "trigger.csv", ',', cols("classpath,kwargs,created_date,triggerer_id")})
	}
	if at("2.7.2") {
		l.Files = slices.Insert(l.Files, 2, LayoutFile{"slot_pool", "slot_pool.csv", ',', cols("pool,slots,description,include_deferred")})
	}
	return l
}

// Layouts are every layout --format names, by name.
var Layouts = func() map[string]*Layout {
	m := map[string]*Layout{}
	for _, v := range []string{"2.4", "2.5", "2.6", "2.7", "2.8", "2.9", "2.10"} {
		l := drLayout(v)
		m[l.Name] = l
	}
	for _, v := range []string{"2.0.2", "2.2.2", "2.4.3"} {
		l := exportDataLayout(v)
		m[l.Name] = l
	}
	for _, v := range []string{"2.0.2", "2.2.2", "2.4.3", "2.5.1", "2.6.3", "2.7.2", "2.8.1", "2.9.2"} {
		l := startStopLayout(v)
		m[l.Name] = l
	}
	// What an export writes: the latest release of each family.
	m["mwaa-dr"] = m["mwaa-dr-2.10"]
	m["export_data-2.x"] = m["export_data-2.4.3"]
	return m
}()

// LayoutNames lists the --format values, sorted.
func LayoutNames() []string {
	var names []string
	for n := range Layouts {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
