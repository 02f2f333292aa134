package envrunner

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// TestTokenStreamsStayInTheGroup: even a token signed with the runner's
// key is refused when it names a stream outside the group's folder: a
// stream is only ever a name matched against the folder's listing.
func TestTokenStreamsStayInTheGroup(t *testing.T) {
	t.Parallel()
	key := []byte("internal test key")
	sign := func(c logCursor) string {
		payload, _ := json.Marshal(c)
		return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(tokenMAC(key, payload))
	}
	for _, c := range []logCursor{
		{Stream: "../../windsock.cfg"},
		{Stream: "/etc/passwd.log"},
		{Stream: "a.log", Hints: map[string][2]int64{"../other/x.log": {0, 0}}},
		{Stream: "a.log", Hints: map[string][2]int64{"sub/../../x.log": {0, 0}}},
	} {
		c.Env, c.Group = "env", GroupScheduler
		_, err := openToken(key, sign(c), "env", GroupScheduler)
		if windsock.ErrorCode(err) != windsock.EINVALID || !strings.Contains(err.Error(), "outside the log group") {
			t.Errorf("%+v: %v, want refused as outside the group", c, err)
		}
	}
	negative := logCursor{Env: "env", Group: GroupScheduler, Stream: "a.log", Hints: map[string][2]int64{"b.log": {-1, 0}}}
	if _, err := openToken(key, sign(negative), "env", GroupScheduler); err == nil || !strings.Contains(err.Error(), "negative offset") {
		t.Errorf("a negative offset: %v", err)
	}
	good := logCursor{Env: "env", Group: GroupScheduler, Stream: "dag_id=d/run_id=r/task_id=t/attempt=1.log", Hints: map[string][2]int64{"standalone.log": {10, 0}}}
	if _, err := openToken(key, sign(good), "env", GroupScheduler); err != nil {
		t.Fatalf("a token naming streams of the group: %v", err)
	}
}
