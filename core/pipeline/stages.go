package pipeline

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
)

// Stage names (core/api's, as the plain strings events and StageStatus
// carry), in pipeline order.
const (
	StageBase      = string(api.StageBase)
	StageCollect   = string(api.StageCollect)
	StageGenerator = string(api.StageGenerator)
	StagePolicy    = string(api.StagePolicy)
	StageBaselines = string(api.StageBaselines)
)

// StageOrder is the order the pipeline view lists stages in.
var StageOrder = func() []string {
	out := make([]string, len(api.Stages))
	for i, s := range api.Stages {
		out[i] = string(s)
	}
	return out
}()

// stageBoard tracks stage states for Stages() and turns them into events.
type stageBoard struct {
	mu     sync.Mutex
	stages map[string]*stageState
	bus    *events.Bus
}

type stageState struct {
	api.StageStatus
	started time.Time
}

func newStageBoard(bus *events.Bus) *stageBoard {
	b := &stageBoard{stages: map[string]*stageState{}, bus: bus}
	for _, n := range StageOrder {
		b.stages[n] = &stageState{StageStatus: api.StageStatus{Name: n, State: "pending"}}
	}
	return b
}

func (b *stageBoard) snapshot() []api.StageStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]api.StageStatus, 0, len(StageOrder))
	for _, n := range StageOrder {
		out = append(out, b.stages[n].StageStatus)
	}
	return out
}

func (b *stageBoard) start(name string) {
	b.mu.Lock()
	s := b.stages[name]
	s.State, s.Fraction, s.Err, s.Cached, s.started = "running", 0, "", false, time.Now()
	b.mu.Unlock()
	b.bus.Publish(events.Event{Kind: events.StageStarted, Stage: name})
}

// progress records a fraction done and estimates the time left from the
// average rate so far.
func (b *stageBoard) progress(name string, frac float64) {
	b.mu.Lock()
	s := b.stages[name]
	if frac < s.Fraction { // a later sub-phase may restart its own count
		frac = s.Fraction
	}
	s.Fraction = min(frac, 1)
	if el := time.Since(s.started); s.Fraction > 0.01 {
		s.ETA = time.Duration(float64(el) * (1 - s.Fraction) / s.Fraction)
	}
	eta := s.ETA
	b.mu.Unlock()
	b.bus.Publish(events.Event{Kind: events.StageProgress, Stage: name, Fraction: frac, ETA: eta})
}

func (b *stageBoard) finish(name string, cached bool, err error) {
	b.mu.Lock()
	s := b.stages[name]
	switch {
	case err != nil:
		s.State, s.Err = "failed", err.Error()
	case cached:
		s.State, s.Cached, s.Fraction = "cached", true, 1
	default:
		s.State, s.Fraction = "done", 1
	}
	s.ETA = 0
	b.mu.Unlock()
	ev := events.Event{Kind: events.StageFinished, Stage: name, Cached: cached, Fraction: 1}
	if err != nil {
		ev.Message = err.Error()
		if errors.Is(err, context.Canceled) {
			ev.Message = events.StageInterrupted
		}
	}
	b.bus.Publish(ev)
}
