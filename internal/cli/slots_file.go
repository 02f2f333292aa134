package cli

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"
)

// slotsFilePoll is how often standalone looks at its --executor-slots-file:
// one stat, so cheap, and short against the 10 s an autoscaler has to
// react to load.
const slotsFilePoll = 250 * time.Millisecond

// watchSlotsFile applies the slot count held in path (a decimal number
// written by the control plane's autoscaler, which scales an environment
// run as one process by its executor's slots instead of by workers) now and
// whenever the file changes, until ctx ends. A missing or unreadable file
// leaves the slots as they are.
func watchSlotsFile(ctx context.Context, path string, set func(int), logger *slog.Logger) {
	var lastMod time.Time
	var lastSize int64 = -1
	last := -1
	apply := func() {
		st, err := os.Stat(path)
		if err != nil || (st.ModTime().Equal(lastMod) && st.Size() == lastSize) {
			return
		}
		lastMod, lastSize = st.ModTime(), st.Size()
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || n < 1 {
			logger.Warn("ignoring the executor slots file: want a positive number", "path", path, "content", strings.TrimSpace(string(b)))
			return
		}
		if n != last {
			last = n
			set(n)
			logger.Info("executor slots set", "slots", n)
		}
	}
	apply()
	t := time.NewTicker(slotsFilePoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			apply()
		}
	}
}
