package tui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/degaml/workbench/core/events"
)

// FrameInterval bounds how often event batches reach Update (~10/s): the
// engine can emit thousands of steps per second, the eye needs ten frames.
// Keys are separate messages and are handled at once.
var FrameInterval = 100 * time.Millisecond

// EventsMsg is one batch of bus events.
type EventsMsg struct {
	Events []events.Event
	closed bool
}

// waitEvents is a Cmd that blocks on the subscription (off the UI
// goroutine), then lingers until the frame boundary so that everything
// published meanwhile arrives as one batch. Update re-issues it after each
// batch (mods' streaming pattern), so at most one is in flight.
func waitEvents(sub *events.Subscription, last time.Time) tea.Cmd {
	return func() tea.Msg {
		evs, ok := sub.Wait()
		if !ok {
			return EventsMsg{closed: true}
		}
		if wait := FrameInterval - time.Since(last); wait > 0 {
			time.Sleep(wait)
			evs = append(evs, sub.Drain()...)
		}
		return EventsMsg{Events: evs}
	}
}
