package windsock

import "sort"

// PythonFileTaskOperator is the catalog name of a task that runs in Python,
// from the DAG file that defined it (PythonOperator, @task, custom and
// placeholder provider operators): the Python parser emits it for every
// task Windsock does not run natively.
const PythonFileTaskOperator = "python_file_task"

// PythonTask is what a Python DAG file said about a task that runs in
// Python: the class the author used and the template metadata the try
// needs. The task's arguments themselves stay in the DAG file, which the
// try imports again.
type PythonTask struct {
	// ClassPath is the class as module.qualname
	// ("airflow.operators.python.PythonOperator").
	ClassPath string `json:"class_path"`
	// ClassName is the operator name shown to users ("PythonOperator").
	ClassName string `json:"class_name"`
	// OperatorName is Airflow's custom_operator_name ("@task"), if any.
	OperatorName   string   `json:"operator_name,omitempty"`
	TemplateFields []string `json:"template_fields,omitempty"`
	TemplateExt    []string `json:"template_ext,omitempty"`
	UIColor        string   `json:"ui_color,omitempty"`
	UIFgColor      string   `json:"ui_fgcolor,omitempty"`
	// MultipleOutputs pushes each key of a returned dict as its own XCom.
	MultipleOutputs bool `json:"multiple_outputs,omitempty"`
	// Placeholder is set for a provider class Windsock does not
	// implement: the DAG loads, a try fails saying what is missing.
	Placeholder *ProviderPlaceholder `json:"placeholder,omitempty"`
	// Kwargs are the constructor arguments as written, in the tagged JSON
	// of the parse document, kept for display only.
	Kwargs map[string]any `json:"kwargs,omitempty"`
}

// ProviderPlaceholder names the provider class a placeholder task stands
// for.
type ProviderPlaceholder struct {
	// Provider is the provider package's short name ("amazon").
	Provider  string `json:"provider"`
	ClassPath string `json:"class_path"`
}

// Message is the error a try of the placeholder fails with.
func (p *ProviderPlaceholder) Message() string {
	return p.ClassPath + " needs the provider package apache-airflow-providers-" + p.Provider + ", which this environment lacks"
}

// Param is the documentation of a DAG param declared with Airflow's Param
// class; its default value is in DAG.Params.
type Param struct {
	Description *string        `json:"description,omitempty"`
	Schema      map[string]any `json:"schema,omitempty"`
}

// DagWarningMissingProvider is the warning_type of a DAG holding tasks of
// provider classes this environment lacks.
const DagWarningMissingProvider = "missing provider"

// DagWarning is a problem with a DAG that does not stop it from loading,
// as Airflow's /dagWarnings reports it.
type DagWarning struct {
	DagID       string
	WarningType string
	Message     string
}

// Warnings returns what is wrong with d without stopping it from loading:
// one warning listing the placeholder provider tasks, if any.
func (d *DAG) Warnings() []DagWarning {
	classes := map[string][]string{}
	for _, t := range d.Tasks {
		if t.Python != nil && t.Python.Placeholder != nil {
			p := t.Python.Placeholder
			classes[p.Message()] = append(classes[p.Message()], t.TaskID)
		}
	}
	if len(classes) == 0 {
		return nil
	}
	msgs := make([]string, 0, len(classes))
	for m := range classes {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	text := ""
	for i, m := range msgs {
		if i > 0 {
			text += "; "
		}
		text += "tasks " + joinQuoted(classes[m]) + ": " + m
	}
	return []DagWarning{{DagID: d.DagID, WarningType: DagWarningMissingProvider, Message: text}}
}

func joinQuoted(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ", "
		}
		out += "'" + id + "'"
	}
	return out
}
