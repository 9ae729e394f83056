package tui

import (
	"testing"
	"time"

	"github.com/degaml/workbench/core/events"
)

// Events published within one frame arrive as one batch.
func TestWaitEventsBatchesPerFrame(t *testing.T) {
	old := FrameInterval
	FrameInterval = 50 * time.Millisecond
	t.Cleanup(func() { FrameInterval = old })
	bus := events.NewBus()
	sub := bus.Subscribe(events.Coalesce)
	defer sub.Close()
	go func() {
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
	if time.Since(start) < FrameInterval {
		t.Fatal("delivered before the frame boundary")
	}
	sub.Close()
	if msg := waitEvents(sub, time.Time{})().(EventsMsg); !msg.closed {
		t.Fatal("closed subscription should end the loop")
	}
}
