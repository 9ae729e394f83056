package tui

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/degaml/workbench/core/events"
)

// Events published within one frame arrive as one batch. In a synctest
// bubble the clock is fake: the frame is exactly FrameInterval long and the
// publisher's pauses take no real time.
func TestWaitEventsBatchesPerFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		old := FrameInterval
		FrameInterval = 50 * time.Millisecond
		t.Cleanup(func() { FrameInterval = old })
		bus := events.NewBus()
		sub := bus.Subscribe(events.Coalesce)
		defer sub.Close()
		go func() { // 100 steps 100 µs apart: 10 ms, well inside one frame
			for i := range 100 {
				bus.Publish(events.Event{Kind: events.Step, Run: "r", Step: i})
				time.Sleep(100 * time.Microsecond)
			}
		}()
		start := time.Now()
		msg := waitEvents(sub, start)().(EventsMsg)
		if len(msg.Events) < 2 {
			t.Fatalf("expected a batch, got %d events", len(msg.Events))
		}
		if last := msg.Events[len(msg.Events)-1]; last.Step != 99 {
			t.Errorf("the frame's batch ends at step %d, want the newest, 99", last.Step)
		}
		if d := time.Since(start); d != FrameInterval {
			t.Errorf("delivered after %v, want exactly one frame (%v)", d, FrameInterval)
		}
		sub.Close()
		if msg := waitEvents(sub, time.Time{})().(EventsMsg); !msg.closed {
			t.Fatal("closed subscription should end the loop")
		}
	})
}
