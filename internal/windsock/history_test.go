package windsock

import "testing"

func TestHistoryCovers(t *testing.T) {
	tries := func(n ...int) []*TaskInstance {
		var out []*TaskInstance
		for _, x := range n {
			out = append(out, &TaskInstance{TryNumber: x})
		}
		return out
	}
	for _, c := range []struct {
		history []*TaskInstance
		try     int
		want    bool
	}{
		{nil, 2, false},           // no history: task_fail tells
		{tries(1), 2, true},       // every earlier try imported
		{tries(1, 2), 3, true},    // in any order
		{tries(2, 1), 3, true},    //
		{tries(1), 3, false},      // try 2 failed here, after the import
		{tries(1, 2, 3), 3, true}, // the current try's own row too
	} {
		if got := HistoryCovers(c.history, c.try); got != c.want {
			t.Errorf("HistoryCovers(%d rows, try %d) = %v, want %v", len(c.history), c.try, got, c.want)
		}
	}
}
