package process

import (
	"bufio"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// A try's shell dies with Windsock (Pdeathsig), but what the shell started
// in the background keeps the try's process group and outlives it, on any
// host: a worker killed with SIGKILL on a machine no scheduler can see
// would leave them running beside the try's next execution elsewhere.
// So every process that runs tries has one guard: a small process of its
// own, started from this same binary, that learns the process group of
// each running command over a pipe and, when the pipe reads EOF (the
// process that runs the tries is gone, however it died), kills the groups
// still listed. One guard per process, not one per try: a try costs two
// short writes.

// guardEnv, set to "1" in a process started from this binary, makes it a
// guard (see init): the guard needs no binary of its own, and test
// binaries are guards as well as windsock is.
const guardEnv = "WINDSOCK_TRY_GUARD"

func init() {
	if os.Getenv(guardEnv) == "1" {
		runGuard(os.Stdin)
		os.Exit(0)
	}
}

// runGuard reads "+PGID" and "-PGID" lines from r until EOF and then kills
// the groups added and not removed.
func runGuard(r io.Reader) {
	// A terminal's signals are for the worker: the guard has its own
	// process group, and still must not leave before the worker does.
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT)
	groups := map[int]struct{}{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(string(line[1:]))
		if err != nil || pgid <= 1 { // never 1 or less: kill(-1) is every process
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = struct{}{}
		case '-':
			delete(groups, pgid)
		}
	}
	for pgid := range groups {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// tryGuard is this process's side of its guard.
type tryGuard struct {
	mu     sync.Mutex
	w      *os.File // the guard's input; nil while no guard runs
	groups map[int]struct{}
	// retryAt is when to start a guard again after starting one failed,
	// so that a host out of processes is not asked for one on every try.
	retryAt time.Time
}

var guard = tryGuard{groups: map[int]struct{}{}}

// guardRetry is how long a failed guard start holds back the next.
const guardRetry = time.Minute

// watch has the guard kill group pgid if this process dies before
// release(pgid). Without a guard (it could not be started), the command's
// own process still dies with this one (Pdeathsig).
func (g *tryGuard) watch(pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.groups[pgid] = struct{}{}
	if g.w != nil && g.send('+', pgid) {
		return
	}
	g.restart()
}

// release forgets group pgid: its command ended, or ended its group.
func (g *tryGuard) release(pgid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.groups, pgid)
	if g.w != nil {
		g.send('-', pgid) // a guard that died is restarted by the next watch
	}
}

// send writes one line to the guard; false means the guard is gone.
func (g *tryGuard) send(op byte, pgid int) bool {
	b := strconv.AppendInt([]byte{op}, int64(pgid), 10)
	if _, err := g.w.Write(append(b, '\n')); err != nil {
		g.w.Close()
		g.w = nil
		return false
	}
	return true
}

// restart starts a guard and tells it every group being watched.
func (g *tryGuard) restart() {
	if time.Now().Before(g.retryAt) {
		return
	}
	w, err := startGuard()
	if err != nil {
		g.retryAt = time.Now().Add(guardRetry)
		return
	}
	g.w = w
	for pgid := range g.groups {
		if !g.send('+', pgid) {
			return
		}
	}
}

// startGuard starts this binary as a guard and returns the pipe to it.
// The guard gets its own process group and no Pdeathsig: it must outlive
// this process. Only the pipe's read end goes to it, so that its EOF
// means this process is gone.
func startGuard() (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		w.Close()
		return nil, err
	}
	defer devnull.Close()
	p, err := os.StartProcess("/proc/self/exe", []string{"windsock-try-guard"}, &os.ProcAttr{
		Dir:   "/",
		Env:   []string{guardEnv + "=1"},
		Files: []*os.File{r, devnull, devnull},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	go p.Wait() // reaped when it ends early (killed); restarted by the next watch
	return w, nil
}
