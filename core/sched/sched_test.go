package sched

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
)

// Every test runs in a synctest bubble: the scheduler is goroutines,
// channels and a sync.Cond only, so a job that never starts or never ends
// fails the test at once as a deadlock instead of hanging until CI's timeout.

// gate lets a test hold a job running until released.
func gate() (func(ctx context.Context) error, chan struct{}, chan struct{}) {
	started, release := make(chan struct{}), make(chan struct{})
	return func(ctx context.Context) error {
		close(started)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}, started, release
}

func TestRoundRobinBetweenSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(1)
		defer s.Close()
		block, started, release := gate()
		if _, err := s.Submit(context.Background(), "x", "block", block); err != nil {
			t.Fatal(err)
		}
		<-started
		var mu sync.Mutex
		var order []string
		rec := func(name string) func(context.Context) error {
			return func(context.Context) error { mu.Lock(); order = append(order, name); mu.Unlock(); return nil }
		}
		// Session a floods the queue before b and c submit anything.
		var jobs []*Job
		for _, n := range []string{"a1", "a2", "a3"} {
			j, _ := s.Submit(context.Background(), "a", n, rec(n))
			jobs = append(jobs, j)
		}
		jb, _ := s.Submit(context.Background(), "b", "b1", rec("b1"))
		jc, _ := s.Submit(context.Background(), "c", "c1", rec("c1"))
		jobs = append(jobs, jb, jc)
		if p := s.Position(jc); p != 2 {
			t.Errorf("c1 position %d, want 2 (after a1, b1)", p)
		}
		if p := s.Position(jobs[2]); p != 4 {
			t.Errorf("a3 position %d, want 4", p)
		}
		close(release)
		for _, j := range jobs {
			if err := j.Wait(); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"a1", "b1", "c1", "a2", "a3"}
		for i := range want {
			if order[i] != want[i] {
				t.Fatalf("order %v, want %v", order, want)
			}
		}
	})
}

func TestCancelSessionStopsQueuedAndRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(1)
		defer s.Close()
		block, started, _ := gate()
		running, _ := s.Submit(context.Background(), "gone", "run", block)
		<-started
		queued, _ := s.Submit(context.Background(), "gone", "later", func(context.Context) error { t.Error("canceled job ran"); return nil })
		other, _ := s.Submit(context.Background(), "stay", "other", func(context.Context) error { return nil })
		s.CancelSession("gone")
		if running.Wait(); running.State() != Canceled {
			t.Errorf("running job state %v", running.State())
		}
		if queued.Wait(); queued.State() != Canceled {
			t.Errorf("queued job state %v", queued.State())
		}
		if err := other.Wait(); err != nil || other.State() != Done {
			t.Errorf("other session's job: %v %v", other.State(), err)
		}
		if q, r := s.Stats(); q != 0 || r != 0 {
			t.Errorf("stats after: %d queued %d running", q, r)
		}
	})
}

func TestPanicAndErrorBecomeFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New(2)
		defer s.Close()
		p, _ := s.Submit(context.Background(), "a", "boom", func(context.Context) error { panic("bug") })
		e, _ := s.Submit(context.Background(), "a", "err", func(context.Context) error { return errors.New("bad") })
		if p.Wait() == nil || p.State() != Failed {
			t.Errorf("panic: %v", p.State())
		}
		if e.Wait() == nil || e.State() != Failed {
			t.Errorf("error: %v", e.State())
		}
	})
}

func TestCloseCancelsAndLeavesNoGoroutines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := runtime.NumGoroutine()
		s := New(3)
		block, started, _ := gate()
		j, _ := s.Submit(context.Background(), "a", "block", block)
		<-started
		for range 10 {
			s.Submit(context.Background(), "b", "q", func(context.Context) error { return nil })
		}
		s.Close()
		if j.State() != Canceled {
			t.Errorf("running job after Close: %v", j.State())
		}
		if _, err := s.Submit(context.Background(), "a", "late", nil); !errors.Is(err, ErrClosed) {
			t.Errorf("submit after close: %v", err)
		}
		synctest.Wait() // every goroutine of the bubble has exited or is stuck for good
		if n := runtime.NumGoroutine(); n > base {
			t.Errorf("goroutines %d > baseline %d", n, base)
		}
	})
}
