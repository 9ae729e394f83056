package events

import (
	"slices"
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
	// warnings, errors) but, while the reader is behind, only the newest
	// steps and tokens and the newest progress of each stage.
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

func (s *Subscription) push(e Event) {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return
	}
	if s.mode == Coalesce && len(s.queue) >= maxPending && highRate(e.Kind) {
		s.compact()
	}
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// compact makes room in a display queue that fell behind: every structural
// event stays, progress keeps only its newest value per stream (a level, not
// a history), and only the newest half of the steps and tokens stay. Halving
// at once keeps Publish amortized O(1).
func (s *Subscription) compact() {
	keep := make([]Event, 0, len(s.queue))
	budget := maxPending / 2
	seenProgress := map[Event]bool{}
	for i := len(s.queue) - 1; i >= 0; i-- {
		e := s.queue[i]
		switch {
		case e.Kind == StageProgress:
			k := Event{Kind: e.Kind, Run: e.Run, Stage: e.Stage, Method: e.Method, Phase: e.Phase, Task: e.Task}
			if seenProgress[k] {
				continue
			}
			seenProgress[k] = true
		case highRate(e.Kind):
			if budget == 0 {
				continue
			}
			budget--
		}
		keep = append(keep, e)
	}
	slices.Reverse(keep)
	s.queue = keep
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
