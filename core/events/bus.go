package events

import (
	"sync"
	"time"
)

// Bus fans events out to subscribers. Publish never blocks: a lossless
// subscriber queues without bound (the run log), a display subscriber keeps
// only the newest high-rate events when it falls behind, so a slow consumer
// never slows training.
type Bus struct {
	mu     sync.Mutex
	subs   []*Subscription
	closed bool
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{} }

// Publish stamps the event's time (if unset) and delivers it to every subscriber.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	subs := append([]*Subscription(nil), b.subs...)
	b.mu.Unlock()
	for _, s := range subs {
		s.push(e)
	}
}

// Mode selects how a subscription copes with a slow reader.
type Mode int

const (
	// Lossless keeps every event (unbounded queue).
	Lossless Mode = iota
	// Coalesce keeps every structural event (stages, hypotheses, results,
	// warnings, errors) but only the newest Step / StageProgress per
	// (run, method, phase) while the reader is behind, capped at maxPending.
	Coalesce
)

const maxPending = 4096

// Subscription is one consumer's view of the bus.
type Subscription struct {
	bus    *Bus
	mode   Mode
	mu     sync.Mutex
	queue  []Event
	notify chan struct{}
	done   bool
}

// Subscribe registers a consumer.
func (b *Bus) Subscribe(mode Mode) *Subscription {
	s := &Subscription{bus: b, mode: mode, notify: make(chan struct{}, 1)}
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	return s
}

// Close unsubscribes; pending Next calls return false.
func (s *Subscription) Close() {
	b := s.bus
	b.mu.Lock()
	for i, x := range b.subs {
		if x == s {
			b.subs = append(b.subs[:i], b.subs[i+1:]...)
			break
		}
	}
	b.mu.Unlock()
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func highRate(k Kind) bool { return k == Step || k == StageProgress || k == Token }

func sameStream(a, b Event) bool {
	return a.Kind == b.Kind && a.Run == b.Run && a.Stage == b.Stage && a.Method == b.Method && a.Phase == b.Phase && a.Task == b.Task
}

func (s *Subscription) push(e Event) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	if s.mode == Coalesce && e.Kind == StageProgress && len(s.queue) > 0 {
		// Progress is a level, not a history: replace the pending one.
		for i := len(s.queue) - 1; i >= 0; i-- {
			if sameStream(s.queue[i], e) {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
	}
	if s.mode == Coalesce && len(s.queue) >= maxPending && highRate(e.Kind) {
		// Drop the oldest high-rate event to make room; structural events stay.
		for i := range s.queue {
			if highRate(s.queue[i].Kind) {
				s.queue = append(s.queue[:i], s.queue[i+1:]...)
				break
			}
		}
	}
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Drain returns every pending event without waiting (possibly none).
func (s *Subscription) Drain() []Event {
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	return q
}

// Wait blocks until at least one event is pending or the subscription is
// closed, then drains. ok is false once closed and empty.
func (s *Subscription) Wait() (evs []Event, ok bool) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			q := s.queue
			s.queue = nil
			s.mu.Unlock()
			return q, true
		}
		done := s.done
		s.mu.Unlock()
		if done {
			return nil, false
		}
		<-s.notify
	}
}
