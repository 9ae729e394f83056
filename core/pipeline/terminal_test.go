package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/sched"
)

// collect records what a terminalPublisher lets through.
type collect struct {
	mu  sync.Mutex
	evs []events.Event
}

func (c *collect) pub(e events.Event) { c.mu.Lock(); c.evs = append(c.evs, e); c.mu.Unlock() }

func (c *collect) terminals() []events.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []events.Event
	for _, e := range c.evs {
		if isTerminal(e) {
			out = append(out, e)
		}
	}
	return out
}

// finishWithin runs tp.finish for job, failing the test if it does not return in time.
func finishWithin(t *testing.T, tp *terminalPublisher, job *sched.Job) {
	t.Helper()
	done := make(chan struct{})
	go func() { tp.finish(job, events.Event{Method: "m"}); close(done) }()
	waitClosed(t, 10*time.Second, "finish returns after the job ended", done)
}

// The defect of issue 13: a panicking job ended with no terminal event, so
// `run` waited forever. Now it ends with exactly one Error naming the panic.
func TestPanickingJobEndsWithOneError(t *testing.T) {
	s := sched.New(1)
	defer s.Close()
	c := &collect{}
	tp := &terminalPublisher{pub: c.pub}
	job, err := s.Submit(context.Background(), "a", "boom", func(context.Context) error {
		tp.publish(events.Event{Kind: events.Step})
		var xs []int
		_ = xs[len(xs)-1+0*len(xs)] // index out of range: a real runtime panic
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	finishWithin(t, tp, job)
	ts := c.terminals()
	if len(ts) != 1 || ts[0].Kind != events.Error || !strings.Contains(ts[0].Message, "panicked") {
		t.Fatalf("terminal events %+v, want one Error about the panic", ts)
	}
	if ts[0].Method != "m" {
		t.Errorf("terminal event lost the run's method: %+v", ts[0])
	}
}

func TestFailedJobEndsWithItsError(t *testing.T) {
	s := sched.New(1)
	defer s.Close()
	c := &collect{}
	tp := &terminalPublisher{pub: c.pub}
	job, _ := s.Submit(context.Background(), "a", "fail", func(context.Context) error { return errors.New("disk full") })
	finishWithin(t, tp, job)
	if ts := c.terminals(); len(ts) != 1 || ts[0].Kind != events.Error || ts[0].Message != "disk full" {
		t.Fatalf("terminal events %+v", ts)
	}
}

// A result published just before a cancel stays the only terminal event.
func TestResultThenCancelStaysOneTerminal(t *testing.T) {
	s := sched.New(1)
	defer s.Close()
	c := &collect{}
	tp := &terminalPublisher{pub: c.pub}
	ctx, cancel := context.WithCancel(context.Background())
	job, _ := s.Submit(ctx, "a", "ok", func(context.Context) error {
		tp.publish(events.Event{Kind: events.Result, Result: &events.ResultInfo{}})
		tp.publish(events.Event{Kind: events.Error, Message: "late"}) // a buggy second terminal
		cancel()
		return nil
	})
	finishWithin(t, tp, job)
	if ts := c.terminals(); len(ts) != 1 || ts[0].Kind != events.Result {
		t.Fatalf("terminal events %+v, want the result only", ts)
	}
}

// A job canceled while still queued never runs, and still ends with Canceled.
func TestQueuedCancelEndsCanceled(t *testing.T) {
	s := sched.New(1)
	defer s.Close()
	release := make(chan struct{})
	hold, _ := s.Submit(context.Background(), "h", "hold", func(ctx context.Context) error { <-release; return nil })
	defer func() { close(release); _ = hold.Wait() }()
	c := &collect{}
	tp := &terminalPublisher{pub: c.pub}
	ctx, cancel := context.WithCancel(context.Background())
	job, _ := s.Submit(ctx, "a", "queued", func(context.Context) error { t.Error("a canceled job ran"); return nil })
	cancel()
	finishWithin(t, tp, job)
	if ts := c.terminals(); len(ts) != 1 || ts[0].Kind != events.Canceled {
		t.Fatalf("terminal events %+v, want Canceled", ts)
	}
}

func TestNoPanicTurnsPanicIntoError(t *testing.T) {
	err := noPanic("base model", func() error { var m map[string]int; m["x"] = 1; return nil })
	if err == nil || !strings.Contains(err.Error(), "base model: internal error") {
		t.Fatalf("err = %v", err)
	}
	if err := noPanic("x", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
