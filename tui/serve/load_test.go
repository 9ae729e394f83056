package serve

import (
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/degaml/workbench/internal/procstat"
)

// TestLoad connects many sessions at once; each renders its first frame and
// queues a job through the TUI (Enter on the task picker), then everyone
// disconnects. Jobs must be canceled and the goroutine count must return to
// its baseline. Run with -v for the figures (BENCHMARKS.md, "SSH server").
// SERVE_LOAD_SESSIONS overrides the default 50.
func TestLoad(t *testing.T) {
	n := 50
	if v, err := strconv.Atoi(os.Getenv("SERVE_LOAD_SESSIONS")); err == nil && v > 0 {
		n = v
	}
	ts := startServer(t, func(c *Config) {
		c.MaxSessions, c.MaxJobsPerSession = n, 2
		// Every test client comes from 127.0.0.1; in a classroom they would
		// come from n addresses.
		c.MaxPreAuthPerAddr = n
		c.tick = time.Second // production pace: the figures should not pay for the other tests' quick ticks
	})
	baseline := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	cpu0 := procstat.CPU()
	terms := make([]*term, n)
	ttff := make([]time.Duration, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			tm, err := ts.openTerm(120, 40)
			if err != nil {
				errs <- err
				return
			}
			terms[i] = tm
			if !tm.waitFor(30*time.Second, firstFrame...) {
				errs <- errFrame(tm.output())
				return
			}
			ttff[i] = time.Since(t0)
			// A key pressed while the session is still settling its terminal
			// (the colour query) can be lost, as it would be for a person, who
			// presses again: so does the test, once the status line shows no job.
			// Each seat queues two jobs (its mode and the base model's
			// reference run): "1 running · 1 queued" or "2 queued, …".
			for try := 0; try < 3; try++ {
				tm.stdin.Write([]byte("\r"))
				if waitAny(tm, 30*time.Second, "your jobs: 1", "your jobs: 2") {
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	allUp := time.Since(start)
	cpuUp := procstat.CPU() - cpu0
	// Generous: under -race on a busy 2-core CI machine fifty TUIs take a while
	// to handle their key press.
	waitUntil(120*time.Second, func() bool { return ts.adapts.Load() >= int64(n) })
	// A session that pressed Enter twice may hold two jobs; every one holds one.
	if got := ts.adapts.Load(); got < int64(n) {
		t.Fatalf("%d of %d sessions queued a job", got, n)
	}
	queued, running := ts.sched.Stats()
	if queued+running < n || running != 1 {
		t.Fatalf("%d queued + %d running, want ≥ %d jobs with 1 running", queued, running, n)
	}
	// The last in line sees its place in the round-robin: every session
	// queued two jobs (its mode and the base model's reference run), so the
	// other sessions' first jobs start before the last one's — and the
	// running session's second job too unless the round-robin serves it
	// after the last session: position n-1 or n.
	if n > 2 && !anyShows(terms, 15*time.Second, "queue position "+strconv.Itoa(n-1)) &&
		!anyShows(terms, time.Second, "queue position "+strconv.Itoa(n)) {
		maxPos := 0
		for _, tm := range terms {
			for _, m := range regexp.MustCompile(`queue position (\d+)`).FindAllStringSubmatch(tm.output(), -1) {
				if v, _ := strconv.Atoi(m[1]); v > maxPos {
					maxPos = v
				}
			}
		}
		t.Errorf("no session shows the last queue position (%d or %d); the highest shown is %d", n-1, n, maxPos)
	}
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	peakG := runtime.NumGoroutine()

	for _, tm := range terms {
		tm.close()
	}
	if !waitUntil(30*time.Second, func() bool { return ts.Sessions() == 0 }) {
		t.Fatalf("%d sessions left after everyone disconnected", ts.Sessions())
	}
	if !waitUntil(30*time.Second, func() bool { q, r := ts.sched.Stats(); return q+r == 0 }) {
		q, r := ts.sched.Stats()
		t.Fatalf("disconnect left %d queued and %d running jobs", q, r)
	}
	after := waitGoroutines(t, baseline, 30*time.Second)

	slices.Sort(ttff)
	pct := func(p float64) time.Duration { return ttff[min(len(ttff)-1, int(p*float64(len(ttff))))] }
	heap := float64(during.HeapInuse) - float64(before.HeapInuse)
	t.Logf("sessions=%d all-first-frames=%v ttff p50=%v p95=%v max=%v", n, allUp.Round(time.Millisecond),
		pct(0.50).Round(time.Millisecond), pct(0.95).Round(time.Millisecond), ttff[n-1].Round(time.Millisecond))
	t.Logf("heap in use +%.1f MiB (%.0f KiB/session, server and test clients in one process); goroutines %d → %d (%.1f/session) → %d",
		heap/(1<<20), heap/1024/float64(n), baseline, peakG, float64(peakG-baseline)/float64(n), after)
	t.Logf("CPU (all threads, server+clients) to bring all up: %v = %v/session; GOMAXPROCS=%d race=%v",
		cpuUp.Round(time.Millisecond), (cpuUp / time.Duration(n)).Round(100*time.Microsecond), runtime.GOMAXPROCS(0), raceEnabled)
}

type errFrame string

func (e errFrame) Error() string { return "no first frame; got " + strconv.Quote(string(e)) }

// anyShows polls every terminal until one shows want.
func anyShows(terms []*term, d time.Duration, want string) bool {
	return waitUntil(d, func() bool {
		return slices.ContainsFunc(terms, func(tm *term) bool { return tm.waitFor(0, want) })
	})
}
