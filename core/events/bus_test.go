package events

import (
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"
)

func TestLosslessKeepsEveryEventInOrder(t *testing.T) {
	b := NewBus()
	s := b.Subscribe(Lossless)
	for i := range 10000 {
		b.Publish(Event{Kind: Step, Step: i})
	}
	evs := s.Drain()
	if len(evs) != 10000 {
		t.Fatalf("%d events, want 10000", len(evs))
	}
	for i, e := range evs {
		if e.Step != i || e.Time.IsZero() {
			t.Fatalf("event %d: %+v", i, e)
		}
	}
}

func TestCoalesceBoundsStepsButKeepsStructure(t *testing.T) {
	b := NewBus()
	s := b.Subscribe(Coalesce)
	b.Publish(Event{Kind: StageStarted, Stage: "base"})
	for i := range 3 * maxPending {
		b.Publish(Event{Kind: Step, Stage: "base", Step: i})
		b.Publish(Event{Kind: StageProgress, Stage: "base", Fraction: float64(i)})
	}
	b.Publish(Event{Kind: Result, Result: &ResultInfo{Method: "m"}})
	evs := s.Drain()
	if len(evs) > maxPending+2 {
		t.Fatalf("slow display reader holds %d events, want at most %d", len(evs), maxPending+2)
	}
	if evs[0].Kind != StageStarted || evs[len(evs)-1].Kind != Result {
		t.Fatalf("structural events lost: first %v last %v", evs[0].Kind, evs[len(evs)-1].Kind)
	}
	lastProgress, lastStep := -1.0, -1
	for _, e := range evs {
		switch e.Kind {
		case StageProgress:
			if e.Fraction <= lastProgress {
				t.Fatal("progress out of order")
			}
			lastProgress = e.Fraction
		case Step:
			if e.Step <= lastStep {
				t.Fatal("steps out of order")
			}
			lastStep = e.Step
		}
	}
	if lastProgress != float64(3*maxPending-1) || lastStep != 3*maxPending-1 {
		t.Fatalf("newest progress %v, newest step %d lost", lastProgress, lastStep)
	}
}

func TestPublishNeverBlocksOnASlowReader(t *testing.T) {
	b := NewBus()
	_ = b.Subscribe(Coalesce) // never read
	_ = b.Subscribe(Lossless) // never read
	done := make(chan struct{})
	go func() {
		for i := range 50000 {
			b.Publish(Event{Kind: Step, Step: i})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("Publish blocked on subscribers that never read")
	}
}

// In a synctest bubble: a reader that Wait never wakes is reported as a
// deadlock at once instead of hanging until CI's timeout.
func TestWaitWakesAndCloseEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBus()
		s := b.Subscribe(Lossless)
		var got []Event
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				evs, ok := s.Wait()
				got = append(got, evs...)
				if !ok {
					return
				}
			}
		}()
		for i := range 100 {
			b.Publish(Event{Kind: Log, Step: i})
		}
		synctest.Wait() // the reader has taken everything and waits again
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		if n != 0 {
			t.Fatalf("%d events still queued while the reader waits", n)
		}
		s.Close()
		<-done
		if len(got) != 100 {
			t.Fatalf("got %d events, want 100", len(got))
		}
		for i, e := range got {
			if e.Step != i {
				t.Fatalf("event %d has step %d: out of order", i, e.Step)
			}
		}
		b.Publish(Event{Kind: Log}) // after Close: delivered to nobody, no panic
	})
}

func TestEventJSONShape(t *testing.T) {
	e := Event{Kind: Result, Run: "r1", Result: &ResultInfo{Method: "degaml", Accuracy: 0.5}, Accuracy: F(0.5)}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["type"] != "result" || m["accuracy"] != 0.5 || m["run"] != "r1" {
		t.Fatalf("JSON shape: %s", b)
	}
	if _, ok := m["support_loss"]; ok {
		t.Fatalf("absent optional field was encoded: %s", b)
	}
}
