// Package examples holds the example DAGs Windsock loads when
// core.load_examples is true, embedded in the binary as Airflow ships its
// example_dags inside its package.
package examples

import (
	"embed"
	"io/fs"
)

// Dir is the fileloc prefix of example DAGs. It is not a path on disk: the
// angle brackets make that plain wherever a fileloc is shown.
const Dir = "<examples>"

//go:embed dags/*.yaml
var files embed.FS

// FS returns the example DAG files.
func FS() fs.FS {
	sub, err := fs.Sub(files, "dags")
	if err != nil {
		panic("examples: embedded dags folder missing: " + err.Error()) // a build defect, not a runtime condition
	}
	return sub
}
