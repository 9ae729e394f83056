// Package state folds the core's event stream into what the screens show.
// It is pure data (no rendering), applied in batches by the root model, so
// every screen reads one consistent snapshot per frame.
package state

import (
	"maps"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
)

// Point is one chart point.
type Point struct{ X, Y float64 }

// StepRow is one adaptation step as the step table shows it.
type StepRow struct {
	Step  int
	Phase string
	// Trial is the index in Run.Hyps of the hypothesis whose validation
	// trial this step belongs to (decoupled DeGAML runs each of the
	// policy's top hypotheses, each numbering its steps from 1); -1 when
	// the run has no hypotheses.
	Trial                  int
	Support, Query, Acc, L *float64 // L: learning rate
	MS                     float64
}

// Run is one Adapt call and everything it reported.
type Run struct {
	ID          string
	Method      api.Method
	Suite, Task string
	Seed        int64
	Knobs       api.Knobs // as requested (0 = default); the key runs are found by
	// Applied is the request as the engine ran it (defaults filled in, knobs
	// the method ignores left out), from its AdaptStarted event; nil until then.
	Applied *events.AdaptInfo
	Steps   []StepRow
	Hyps    []events.HypothesisInfo
	Chosen  *events.HypothesisInfo
	Result  *events.ResultInfo
	Err     string
	// Canceled: the run was stopped by its user (its terminal event was
	// events.Canceled), which is neither a result nor a failure.
	Canceled bool
	Done     bool
	Seq      int // creation order, to find the newest run
}

// Stream is one Chat call's generated text.
type Stream struct {
	ID, Text, Err string
	Label         string // the adapter that answered, as the engine names it
	Canceled      bool   // stopped by its user before the answer ended
	Done          bool
	TokensPerS    float64
}

// Store is the folded state. Not safe for concurrent use: only the root
// model's Update touches it.
type Store struct {
	// Sel is the user's selection (task, seed, mode, knobs, baselines).
	Sel       Selection
	Stages    []api.StageStatus
	StageLoss map[string][]Point // live loss of each pipeline stage (kept after it ends)
	// StageTook is how long each stage trained in this session (from its
	// start and finish events); cached stages have none.
	StageTook  map[string]time.Duration
	stageStart map[string]time.Time
	Runs       map[string]*Run
	Streams    map[string]*Stream
	Notice     string // newest warning/error line for the status bar
	NoticeBad  bool
	// ResultsChanged is set by Result events so the results view refetches.
	ResultsChanged bool
	// Version increments whenever anything changed; views cache on it.
	Version   int
	LastEvent time.Time

	seq    int
	worlds map[worldKey]api.World
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{Sel: newSelection(), StageLoss: map[string][]Point{}, StageTook: map[string]time.Duration{},
		stageStart: map[string]time.Time{}, Runs: map[string]*Run{}, Streams: map[string]*Stream{}}
}

// maxStageLoss caps the stage loss history; older points are thinned.
const maxStageLoss = 2000

// SetStages takes the facade's stage list. The snapshot may be older than
// events already applied (it is read in a Cmd), so a stage keeps whichever
// of the two is further along: stages only move forward.
func (s *Store) SetStages(st []api.StageStatus) {
	old := map[string]api.StageStatus{}
	for _, x := range s.Stages {
		old[x.Name] = x
	}
	out := append([]api.StageStatus(nil), st...)
	seen := map[string]bool{}
	for i, x := range out {
		seen[x.Name] = true
		if o, ok := old[x.Name]; ok && (stageRank(o.State) > stageRank(x.State) ||
			stageRank(o.State) == stageRank(x.State) && o.Fraction > x.Fraction) {
			out[i] = o
		}
	}
	for _, o := range s.Stages { // known from events only
		if !seen[o.Name] {
			out = append(out, o)
		}
	}
	s.Stages = out
	s.Version++
}

func stageRank(state string) int {
	switch state {
	case "running":
		return 1
	case "done", "cached", "failed":
		return 2
	}
	return 0
}

// AddRun registers an Adapt call's metadata. Events may already have
// created the run (the engine can publish before Adapt returns).
func (s *Store) AddRun(id string, r api.AdaptRequest) *Run {
	run := s.run(id)
	run.Method, run.Suite, run.Seed, run.Knobs = api.Method(r.Method), r.Suite, r.Seed, r.Knobs
	s.Version++
	return run
}

// AddStream registers a Chat call.
func (s *Store) AddStream(id string) *Stream {
	st := s.Streams[id]
	if st == nil {
		st = &Stream{ID: id}
		s.Streams[id] = st
	}
	return st
}

func (s *Store) run(id string) *Run {
	r := s.Runs[id]
	if r == nil {
		s.seq++
		r = &Run{ID: id, Seq: s.seq}
		s.Runs[id] = r
	}
	return r
}

// PipelineRunning reports whether any stage is running.
func (s *Store) PipelineRunning() (api.StageStatus, bool) {
	for _, st := range s.Stages {
		if st.State == "running" {
			return st, true
		}
	}
	return api.StageStatus{}, false
}

// Apply folds a batch of events into the store.
func (s *Store) Apply(evs []events.Event) {
	for _, e := range evs {
		s.apply(e)
	}
	if len(evs) > 0 {
		s.Version++
		s.LastEvent = evs[len(evs)-1].Time
	}
}

func (s *Store) apply(e events.Event) {
	switch e.Kind {
	case events.StageStarted, events.StageProgress, events.StageFinished:
		s.applyStage(e)
		return
	}
	if e.Run != "" {
		st, ok := s.Streams[e.Run]
		// A short answer (one word, then EOS) can be over before Chat has
		// returned its id to AddStream: take its tokens and end anyway, or
		// the answer shows empty.
		if !ok && (e.Kind == events.Token || e.Kind == events.Log && e.Phase == "chat_done") {
			st, ok = s.AddStream(e.Run), true
		}
		if ok {
			s.applyStream(st, e)
			return
		}
	}
	switch e.Kind {
	case events.Step:
		if e.Run == "" && e.Stage != "" {
			s.addStageLoss(e)
			return
		}
		if e.Run == "" {
			return
		}
		r := s.run(e.Run)
		fillRun(r, e)
		r.Steps = append(r.Steps, StepRow{Step: e.Step, Phase: e.Phase, Trial: len(r.Hyps) - 1, Support: e.SupportLoss,
			Query: e.QueryLoss, Acc: e.Accuracy, L: e.LR, MS: e.MS})
	case events.Hypothesis:
		if e.Run == "" || e.Hyp == nil {
			return
		}
		r := s.run(e.Run)
		fillRun(r, e)
		// A hypothesis is announced before its trial, again with its reward,
		// and the chosen one once more: update it, don't repeat it.
		if i := findHyp(r.Hyps, e.Hyp); i >= 0 {
			r.Hyps[i] = *e.Hyp
		} else {
			r.Hyps = append(r.Hyps, *e.Hyp)
		}
		if e.Hyp.Chosen {
			h := *e.Hyp
			r.Chosen = &h
		}
	case events.Result:
		s.ResultsChanged = true
		if e.Run == "" || e.Result == nil {
			return
		}
		r := s.run(e.Run)
		fillRun(r, e)
		res := *e.Result
		r.Result, r.Done = &res, true
		if res.Chosen != nil && r.Chosen == nil {
			r.Chosen = res.Chosen
		}
	case events.AdaptStarted:
		if e.Run == "" || e.Adapt == nil {
			return
		}
		r := s.run(e.Run)
		fillRun(r, e)
		a := *e.Adapt
		r.Applied = &a
	case events.Canceled:
		s.Notice, s.NoticeBad = "cancelled", false
		if e.Message != "" {
			s.Notice = "cancelled: " + e.Message
		}
		if e.Run != "" {
			r := s.run(e.Run)
			fillRun(r, e)
			r.Canceled, r.Done = true, true
		}
	case events.Warning:
		s.Notice, s.NoticeBad = "warning: "+e.Message, false
	case events.Error:
		s.Notice, s.NoticeBad = "error: "+e.Message, true
		if e.Stage != "" && e.Run == "" {
			for i := range s.Stages {
				if s.Stages[i].Name == e.Stage {
					s.Stages[i].State, s.Stages[i].Err = "failed", e.Message
				}
			}
		}
		if e.Run != "" {
			r := s.run(e.Run)
			r.Err, r.Done = e.Message, true
		}
	}
}

func fillRun(r *Run, e events.Event) {
	if r.Method == "" {
		r.Method = api.Method(e.Method)
	}
	if r.Task == "" {
		r.Task = e.Task
	}
}

func (s *Store) applyStream(st *Stream, e events.Event) {
	switch e.Kind {
	case events.Token:
		st.Text += e.Text
		if e.Message != "" {
			st.Label = e.Message
		}
		if e.TokensPerS > 0 {
			st.TokensPerS = e.TokensPerS
		}
	case events.Log, events.Result:
		// The engine's final Log names the adapter too (an answer may end
		// before its first token).
		if e.Message != "" && st.Label == "" {
			st.Label = e.Message
		}
		st.Done = true
	case events.Error:
		st.Err, st.Done = e.Message, true
	case events.Canceled:
		st.Canceled, st.Done = true, true
	}
}

func (s *Store) applyStage(e events.Event) {
	i := -1
	for j := range s.Stages {
		if s.Stages[j].Name == e.Stage {
			i = j
		}
	}
	if i < 0 {
		s.Stages = append(s.Stages, api.StageStatus{Name: e.Stage, State: "pending"})
		i = len(s.Stages) - 1
	}
	st := &s.Stages[i]
	switch e.Kind {
	case events.StageStarted:
		st.State, st.Fraction, st.Err = "running", 0, ""
		delete(s.StageLoss, e.Stage)
		delete(s.StageTook, e.Stage)
		s.stageStart[e.Stage] = e.Time
	case events.StageProgress:
		st.State, st.Fraction, st.ETA = "running", e.Fraction, e.ETA
	case events.StageFinished:
		st.Fraction, st.ETA, st.Cached = 1, 0, e.Cached
		if t0, ok := s.stageStart[e.Stage]; ok && !e.Cached && !t0.IsZero() && e.Time.After(t0) {
			s.StageTook[e.Stage] = e.Time.Sub(t0)
		}
		st.State = "done"
		if e.Cached {
			st.State = "cached"
		}
		if e.Message != "" { // the facade reports a failed stage this way
			st.State, st.Err = "failed", e.Message
		}
	}
}

func (s *Store) addStageLoss(e events.Event) {
	v := e.QueryLoss
	if v == nil {
		v = e.SupportLoss
	}
	if v == nil {
		return
	}
	pts := append(s.StageLoss[e.Stage], Point{X: float64(e.Step), Y: *v})
	if len(pts) > maxStageLoss {
		// Keep every other old point: the curve's shape survives, memory doesn't grow.
		half := pts[:len(pts)/2]
		thin := make([]Point, 0, maxStageLoss)
		for i := 0; i < len(half); i += 2 {
			thin = append(thin, half[i])
		}
		pts = append(thin, pts[len(pts)/2:]...)
	}
	s.StageLoss[e.Stage] = pts
}

// RunsFor returns the runs on suite with seed, newest per method, keyed by method.
func (s *Store) RunsFor(suite string, seed int64, knobs api.Knobs) map[api.Method]*Run {
	out := map[api.Method]*Run{}
	for _, r := range s.Runs {
		if r.Suite == suite && r.Seed == seed && r.Knobs == knobs {
			if old := out[r.Method]; old == nil || old.Seq < r.Seq {
				out[r.Method] = r
			}
		}
	}
	return out
}

func findHyp(hs []events.HypothesisInfo, h *events.HypothesisInfo) int {
	for i := range hs {
		if hs[i].Family == h.Family && maps.Equal(hs[i].Params, h.Params) {
			return i
		}
	}
	return -1
}

// ChosenTrial is the index in Hyps of the chosen hypothesis, or -1 (none
// chosen yet, or the chosen one was never tried: "keep the generated
// adapter").
func (r *Run) ChosenTrial() int {
	if r.Chosen == nil {
		return -1
	}
	return findHyp(r.Hyps, r.Chosen)
}

// Curve is the steps a chart draws for the run: for a run with validation
// trials, the chosen hypothesis's steps (or, while choosing, the trial in
// progress); otherwise every step.
func (r *Run) Curve() []StepRow {
	if len(r.Hyps) == 0 {
		return r.Steps
	}
	t := len(r.Hyps) - 1
	if r.Chosen != nil {
		t = r.ChosenTrial()
	}
	var out []StepRow
	for _, s := range r.Steps {
		if s.Trial == t {
			out = append(out, s)
		}
	}
	return out
}
