package state

import (
	"slices"

	"github.com/degaml/workbench/core/api"
)

// The two DeGAML modes and the reference method every chart compares with.
const (
	MethodGen       = api.MethodDeGAMLGen
	MethodDecoupled = api.MethodDeGAML
	MethodBase      = api.MethodBase
)

// Baselines are the methods that can be ticked onto the chart, in the
// order they are drawn (so a method keeps its colour and glyph).
var Baselines = api.Baselines()

// Selection is what the user has chosen. It lives in the Store, the one
// place every pane reads it from, so the picker, the dashboard, the chat,
// the knobs form and the status line always describe the same world: the
// task instance is fixed by (Suite, Seed) and named by the engine.
type Selection struct {
	Suite string
	Seed  int64
	Mode  api.Method // MethodGen or MethodDecoupled
	Knobs api.Knobs
	// Compare: both modes are on the chart (the user toggled once), so a
	// change of task, seed or knobs re-runs both.
	Compare   bool
	Baselines map[api.Method]bool // ticked baselines
}

// DefaultSeed is the seed a new session starts with; it matches the
// engine's default evaluation seed.
const DefaultSeed = 1

func newSelection() Selection {
	return Selection{Seed: DefaultSeed, Mode: MethodDecoupled, Baselines: map[api.Method]bool{}}
}

// Methods lists every method the selection asks for, in chart order: the
// current mode, the other mode when comparing, the ticked baselines, and
// the base model (the chart's reference line). Empty without a task.
func (s Selection) Methods() []api.Method {
	if s.Suite == "" {
		return nil
	}
	out := []api.Method{s.Mode}
	if s.Compare {
		out = append(out, OtherMode(s.Mode))
	}
	for _, b := range Baselines {
		if s.Baselines[b] {
			out = append(out, b)
		}
	}
	return append(out, MethodBase)
}

// Shows reports whether method's curve belongs on the chart.
func (s Selection) Shows(method api.Method) bool {
	return slices.Contains(s.Methods(), method)
}

// Request is the Adapt call for method under the selection.
func (s Selection) Request(method api.Method) api.AdaptRequest {
	return api.AdaptRequest{Suite: s.Suite, Method: string(method), Seed: s.Seed, Knobs: s.Knobs}
}

// TickedBaselines returns the ticked baselines in chart order.
func (s Selection) TickedBaselines() []api.Method {
	var out []api.Method
	for _, b := range Baselines {
		if s.Baselines[b] {
			out = append(out, b)
		}
	}
	return out
}

// OtherMode is the mode the toggle switches to.
func OtherMode(mode api.Method) api.Method {
	if mode == MethodGen {
		return MethodDecoupled
	}
	return MethodGen
}

// The mutators below are the only way the selection changes; each bumps
// the store's version so cached views redraw.

// SelectSuite makes suite the current task (baselines stay ticked: they
// are re-run on the new task).
func (s *Store) SelectSuite(suite string) { s.Sel.Suite = suite; s.Version++ }

// SelectSeed sets the seed (a seed picks the task instance).
func (s *Store) SelectSeed(seed int64) { s.Sel.Seed = seed; s.Version++ }

// NextSeed moves to the next seed: a new instance of the same task.
func (s *Store) NextSeed() { s.Sel.Seed++; s.Version++ }

// SelectKnobs sets seed and knobs together (the knobs form submits both).
func (s *Store) SelectKnobs(seed int64, k api.Knobs) {
	s.Sel.Seed, s.Sel.Knobs = seed, k
	s.Version++
}

// ToggleMode switches gen-only ↔ decoupled; from then on both are shown.
func (s *Store) ToggleMode() {
	s.Sel.Mode, s.Sel.Compare = OtherMode(s.Sel.Mode), true
	s.Version++
}

// CompareModes puts both modes on the chart without switching.
func (s *Store) CompareModes() {
	if !s.Sel.Compare {
		s.Sel.Compare = true
		s.Version++
	}
}

// ToggleBaseline ticks or unticks b and reports whether it is now ticked.
func (s *Store) ToggleBaseline(b api.Method) bool {
	if !slices.Contains(Baselines, b) {
		return false
	}
	s.Sel.Baselines[b] = !s.Sel.Baselines[b]
	if !s.Sel.Baselines[b] {
		delete(s.Sel.Baselines, b)
	}
	s.Version++
	return s.Sel.Baselines[b]
}

// Selected returns the runs of the selected methods under the current
// selection (newest per method); methods not selected are left out even
// when an older run exists, so an unticked baseline leaves the chart.
func (s *Store) Selected() map[api.Method]*Run {
	runs := s.RunsFor(s.Sel.Suite, s.Sel.Seed, s.Sel.Knobs)
	out := map[api.Method]*Run{}
	for _, m := range s.Sel.Methods() {
		if r := runs[m]; r != nil {
			out[m] = r
		}
	}
	return out
}

type worldKey struct {
	suite string
	seed  int64
}

// World returns the instance (suite, seed) selects, asking eng once per
// pair (engines that cannot say return false).
func (s *Store) World(eng any, suite string, seed int64) (api.World, bool) {
	k := worldKey{suite, seed}
	if w, ok := s.worlds[k]; ok {
		return w, w.Suite != ""
	}
	ws, ok := eng.(api.Worlds)
	if !ok {
		return api.World{}, false
	}
	w, err := ws.World(suite, seed)
	if err != nil {
		w = api.World{}
	}
	if s.worlds == nil {
		s.worlds = map[worldKey]api.World{}
	}
	s.worlds[k] = w
	return w, w.Suite != ""
}
