package api

import (
	"bytes"
	"net/http"
	"testing"
)

// TestDagRunConfKeepsNumbers triggers a run with a conf of integers, a
// large integer and floats: the stored run and the API answer keep them
// exactly (encoding/json alone would round the id and turn 5.0 into 5).
func TestDagRunConfKeepsNumbers(t *testing.T) {
	t.Parallel()
	re := setupRuns(t)
	body := `{"dag_run_id": "nums", "conf": {"n": 5, "id": 12345678901234567, "big": 123456789012345678901234567890, "f": 0.1, "w": 5.0, "ok": true}}`
	r := re.doChecked("POST", "/api/v1/dags/etl/dagRuns", "admin", body)
	re.ok(r, http.StatusOK, nil)
	want := `"conf":{"big":123456789012345678901234567890,"f":0.1,"id":12345678901234567,"n":5,"ok":true,"w":5.0}`
	if !bytes.Contains(r.body, []byte(want)) {
		t.Errorf("POST answer lacks %s:\n%s", want, r.body)
	}
	r = re.doChecked("GET", "/api/v1/dags/etl/dagRuns/nums", "admin", nil)
	re.ok(r, http.StatusOK, nil)
	if !bytes.Contains(r.body, []byte(want)) {
		t.Errorf("GET answer lacks %s:\n%s", want, r.body)
	}
	run, err := re.st.DagRunGet(re.ctx, "etl", "nums")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := run.Conf["id"].(int); !ok || n != 12345678901234567 {
		t.Errorf("stored id = %#v, want the exact int", run.Conf["id"])
	}
}
