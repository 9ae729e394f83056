package serve

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/sched"
	"github.com/degaml/workbench/tui/internal/fakeengine"
)

// A seat's Adapt applies core/api's knob rule before it queues anything (a
// private copy here once refused lr = 1, which the form and the CLI accept).
func TestSessionAdaptChecksTheContract(t *testing.T) {
	sc := sched.New(1)
	defer sc.Close()
	var adapts atomic.Int64
	own := &fakeSession{name: "s", sched: sc, bus: events.NewBus(), adapt: &adapts, runs: map[string]bool{}}
	defer own.Close()
	e := newSessionEngine(context.Background(), fakeengine.New(), own, 4)
	defer e.close()
	for _, k := range []api.Knobs{{Rank: 257}, {LR: 1.5}, {InnerSteps: -1}, {Support: 5000}} {
		if _, err := e.Adapt(context.Background(), api.AdaptRequest{Suite: "math-mc", Method: "degaml", Knobs: k}); err == nil {
			t.Errorf("%+v accepted", k)
		}
	}
	if _, err := e.Adapt(context.Background(), api.AdaptRequest{Suite: "math-mc", Method: "degaml", Seed: -1}); err == nil || !strings.Contains(err.Error(), "seed") {
		t.Errorf("seed -1: %v", err)
	}
	if n := adapts.Load(); n != 0 {
		t.Fatalf("%d bad requests reached the engine", n)
	}
	for _, k := range []api.Knobs{{}, {LR: 1, Rank: 256, InnerSteps: 10000, Support: 4096}} {
		if _, err := e.Adapt(context.Background(), api.AdaptRequest{Suite: "math-mc", Method: "degaml", Knobs: k}); err != nil {
			t.Errorf("%+v refused: %v", k, err)
		}
	}
	if n := adapts.Load(); n != 2 {
		t.Fatalf("%d good requests reached the engine, want 2", n)
	}
}
