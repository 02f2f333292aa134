package cli

import (
	"context"
	"fmt"
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
		n, err := readSlotsFile(path)
		if err != nil {
			logger.Warn("ignoring the executor slots file", "path", path, "error", err)
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

// readSlotsFile reads the slot count in path: a positive decimal number.
func readSlotsFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("want a positive number, got %q", strings.TrimSpace(string(b)))
	}
	return n, nil
}
