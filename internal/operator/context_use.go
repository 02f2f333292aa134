package operator

// WantsContext reports whether the operator hands Airflow's template
// context to user code (the Python operators pass it as keyword
// arguments, and a Python DAG file's task renders its own fields from
// it), so the context must be built even when no field is templated.
func (s *Spec) WantsContext() bool {
	switch s.Name {
	case "python", "branch_python", "short_circuit", "python_file_task":
		return true
	}
	return false
}
