package envrunner_test

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func TestDAGFromLocalBucket(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tr.putLocal("srcbucket", "dags/first.yaml", dagYAML("first", 2, "echo first"))
	began := time.Now()
	st := tr.start(spec("local-env", "srcbucket"))
	t.Logf("Start -> AVAILABLE in %s (web server at %s)", time.Since(began), st.WebserverHostname)
	db := tr.openStore("local-env")
	waitFor(t, 2*time.Minute, "the first DAG to run", func() bool { return states(t, db, "first")[windsock.TaskStateSuccess] == 2 })

	// A DAG uploaded while the environment runs.
	uploaded := time.Now()
	tr.putLocal("srcbucket", "dags/second.yaml", dagYAML("second", 1, "echo second"))
	waitFor(t, 2*time.Minute, "the uploaded DAG to run", func() bool { return states(t, db, "second")[windsock.TaskStateSuccess] == 1 })
	t.Logf("uploaded DAG ran within %s", time.Since(uploaded))
}
