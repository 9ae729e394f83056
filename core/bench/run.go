package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/degaml/workbench/core/events"
)

// Runner adapts one method to one cell's task and evaluates it, streaming
// the run's events to pub. The command wires it to pipeline.Workbench.RunTask
// (the one code path shared with the TUI and `workbench run`); tests inject a
// fake so they train nothing.
type Runner func(ctx context.Context, c Cell, pub func(events.Event)) (*events.ResultInfo, error)

// Plan is what a bench covers.
type Plan struct {
	Methods []string
	Suites  []string
	Seeds   []int64
	Shard   Shard // zero: every cell; else only this slice of them (shard.go)
}

// Seeds returns 1..n, the seeds a bench of n seeds uses.
func Seeds(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// Cells lists the plan's cells seed-major, so that an interrupted bench has
// complete tables for its first seeds rather than every seed of a few
// methods.
func (p Plan) Cells() []Cell {
	var out []Cell
	for _, s := range p.Seeds {
		for _, m := range p.Methods {
			for _, su := range p.Suites {
				out = append(out, Cell{m, su, s})
			}
		}
	}
	return p.Shard.slice(out)
}

// CellError is a failed cell.
type CellError struct {
	Cell Cell
	Err  error
}

// Summary reports what a Run did.
type Summary struct {
	Total, Resumed, Ran int
	Failed              []CellError
	// SkippedMethods failed on their first cell of the session and were not
	// retried: that is a broken meta-training or setup, and retrying would
	// retrain the method once per cell.
	SkippedMethods []string
}

// Run executes every cell of the plan not already in the store,
// sequentially (each run already uses every core), appending each result as
// it finishes. It stops at the first cell after ctx is canceled and returns
// ctx's error; what finished is kept for the next run.
func Run(ctx context.Context, plan Plan, run Runner, st *Store, prog *Progress) (Summary, error) {
	cells := plan.Cells()
	sum := Summary{Total: len(cells)}
	var todo []Cell
	for _, c := range cells {
		if _, ok := st.Done(c); ok {
			sum.Resumed++
		} else {
			todo = append(todo, c)
		}
	}
	est := newEstimator(st.Records())
	prog.start(len(cells), sum.Resumed, st.Path())
	okOnce := map[string]bool{}  // methods that produced a result this session
	broken := map[string]error{} // methods whose first cell of the session failed
	for i, c := range todo {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err, ok := broken[c.Method]; ok {
			sum.Failed = append(sum.Failed, CellError{c, fmt.Errorf("skipped: %w", err)})
			continue
		}
		idx := sum.Resumed + i + 1
		prog.cellStarted(idx, c)
		rec := newCurveRecorder()
		t0 := time.Now()
		res, err := run(ctx, c, func(e events.Event) {
			rec.observe(e)
			prog.event(c, e)
		})
		if err == nil && res == nil {
			err = errors.New("runner returned no result")
		}
		if err != nil {
			if ctx.Err() != nil {
				prog.interrupted()
				return sum, ctx.Err()
			}
			sum.Failed = append(sum.Failed, CellError{c, err})
			if !okOnce[c.Method] {
				broken[c.Method] = err
				sum.SkippedMethods = append(sum.SkippedMethods, c.Method)
			}
			prog.cellFailed(idx, c, err, !okOnce[c.Method])
			continue
		}
		okOnce[c.Method] = true
		r := Record{Method: c.Method, Suite: c.Suite, Seed: c.Seed, Task: res.Task, Accuracy: res.Accuracy,
			N: res.N, ECE: res.ECE, WallS: res.WallS, Chosen: res.Chosen, Flag: res.Flag, Curves: rec.curves()}
		if r.WallS <= 0 {
			r.WallS = time.Since(t0).Seconds()
		}
		if err := st.Append(r); err != nil {
			return sum, fmt.Errorf("saving %s/%s/seed %d: %w", c.Method, c.Suite, c.Seed, err)
		}
		sum.Ran++
		est.add(r)
		prog.cellDone(idx, r, est.remaining(todo[i+1:], broken))
	}
	prog.Done()
	return sum, nil
}

// estimator predicts the remaining time from each method's mean per-cell
// wall time (adaptation + evaluation, as RunTask measures it), including
// cells resumed from earlier sessions. It does not foresee the one-off
// meta-training of a method that has not run yet.
type estimator struct {
	sum map[string]float64
	n   map[string]int
}

func newEstimator(recs []Record) *estimator {
	e := &estimator{sum: map[string]float64{}, n: map[string]int{}}
	for _, r := range recs {
		e.add(r)
	}
	return e
}

func (e *estimator) add(r Record) {
	e.sum[r.Method] += r.WallS
	e.n[r.Method]++
}

// slowest is the largest per-method mean, the guess for an unseen method.
func (e *estimator) slowest() float64 {
	w := 0.0
	for m, n := range e.n {
		w = max(w, e.sum[m]/float64(n))
	}
	return w
}

func (e *estimator) remaining(cells []Cell, broken map[string]error) time.Duration {
	s := 0.0
	for _, c := range cells {
		if _, ok := broken[c.Method]; ok {
			continue
		}
		if n := e.n[c.Method]; n > 0 {
			s += e.sum[c.Method] / float64(n)
		} else {
			s += e.slowest() // pessimistic: an ETA that shrinks beats one that grows
		}
	}
	return time.Duration(s * float64(time.Second))
}

// Progress reports a bench on a stream (stderr): a permanent line per
// finished cell with an ETA, and on a terminal a live status line rewritten
// on every step event. A nil *Progress reports nothing.
type Progress struct {
	W   io.Writer
	TTY bool

	// mu serializes the bench loop's lines with the pipeline-stage lines
	// the command prints from its event-bus goroutine.
	mu    sync.Mutex
	total int
	live  bool
	cur   string
	last  time.Time
}

// statusWidth bounds the live line: a status wider than the terminal wraps
// and "\r" can no longer erase it.
const statusWidth = 100

func (p *Progress) start(total, resumed int, path string) {
	if resumed > 0 {
		p.Line(fmt.Sprintf("bench: %d of %d cells already done in %s; resuming", resumed, total, path))
	} else {
		p.Line(fmt.Sprintf("bench: %d cells; results go to %s", total, path))
	}
	if p != nil {
		p.mu.Lock()
		p.total = total
		p.mu.Unlock()
	}
}

func (p *Progress) cellStarted(i int, c Cell) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.cur = fmt.Sprintf("[%*d/%d] %s %s seed %d", width(p.total), i, p.total, c.Method, c.Suite, c.Seed)
	cur := p.cur
	p.mu.Unlock()
	p.Status(cur + " …")
}

// event shows the latest step of the running cell; throttled so a fast
// inner loop does not flood a slow terminal.
func (p *Progress) event(_ Cell, e events.Event) {
	if p == nil || !p.TTY || e.Kind != events.Step {
		return
	}
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond {
		p.mu.Unlock()
		return
	}
	p.last = now
	s := fmt.Sprintf("%s  %s step %d/%d", p.cur, e.Phase, e.Step, e.Total)
	p.mu.Unlock()
	if e.SupportLoss != nil {
		s += fmt.Sprintf(" loss %.3f", *e.SupportLoss)
	}
	if e.QueryLoss != nil {
		s += fmt.Sprintf(" query %.3f", *e.QueryLoss)
	}
	p.Status(s)
}

// Status shows a live line (e.g. a pipeline stage) on a terminal only.
func (p *Progress) Status(s string) {
	if p == nil || !p.TTY {
		return
	}
	if r := []rune(s); len(r) > statusWidth {
		s = string(r[:statusWidth-1]) + "…"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.W, "\r\033[K%s", s)
	p.live = true
}

// Line prints a permanent line (e.g. a stage finishing), clearing a live one.
func (p *Progress) Line(s string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLive()
	fmt.Fprintln(p.W, s)
}

func (p *Progress) cellDone(i int, r Record, eta time.Duration) {
	if p == nil {
		return
	}
	s := fmt.Sprintf("[%*d/%d] %-11s %-13s seed %d  acc %5.1f%%  (n=%d, %.1fs)", width(p.total), i, p.total,
		r.Method, r.Suite, r.Seed, 100*r.Accuracy, r.N, r.WallS)
	if r.Flag != "" {
		s += "  FLAGGED " + r.Flag
	}
	if i < p.total {
		s += "  ETA " + fmtDur(eta)
	}
	p.Line(s)
}

func (p *Progress) cellFailed(i int, c Cell, err error, skipMethod bool) {
	if p == nil {
		return
	}
	s := fmt.Sprintf("[%*d/%d] %s %s seed %d FAILED: %v", width(p.total), i, p.total, c.Method, c.Suite, c.Seed, err)
	if skipMethod {
		s += fmt.Sprintf(" (skipping the rest of %s)", c.Method)
	}
	p.Line(s)
}

func (p *Progress) interrupted() {
	p.Line("bench: interrupted; finished cells are saved, run the same command again to resume")
}

// Done erases a live status line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLive()
}

// clearLive erases the live status line, if one is shown; p.mu is held.
func (p *Progress) clearLive() {
	if p.live {
		fmt.Fprint(p.W, "\r\033[K")
		p.live = false
	}
}

func width(n int) int { return len(fmt.Sprint(n)) }

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	if d >= time.Minute {
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}
