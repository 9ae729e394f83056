// Package api declares the facade the TUI and the SSH server consume, as
// plain request/response types plus the Engine interface. It lives apart from
// core/pipeline so that front ends compile (and test against fakes) without
// importing the training stack; core/pipeline.Workbench implements Engine.
package api

import (
	"context"
	"time"

	"github.com/degaml/workbench/core/events"
)

// SuiteInfo describes one task suite for the picker.
type SuiteInfo struct {
	Name        string // e.g. "math-mc"
	Domain      string // e.g. "math"
	Role        string // "in-domain" | "out-of-domain" | "user" (a loaded task file)
	Description string
	Example     string            // one item in DnD text ("question\nA: …\nB: …")
	Hidden      map[string]string // the hidden per-task parameter(s) of a built-in suite; nil for files
}

// World is the task instance a (suite, seed) selection adapts to: what the
// picker previews, what the dashboard names and what `workbench tasks show
// NAME#I` prints, so that every screen shows the same world.
type World struct {
	Suite   string
	Task    string // the instance's name, e.g. "math-mc#501"
	Seed    int64
	Hidden  map[string]string // nil for task files
	Example string            // one test item in DnD text with its answer
	Options int               // options per item (chance accuracy is 1/Options); 0 if unknown
	Show    string            // the command that prints this instance, "" for task files
}

// Worlds is implemented by engines that can name the instance a seed
// selects; front ends fall back to Suites() when an engine does not.
type Worlds interface {
	World(suite string, seed int64) (World, error)
}

// StageStatus is one pipeline stage as the facade last saw it.
type StageStatus struct {
	Name     string // a Stage
	State    string // "pending" | "running" | "cached" | "done" | "failed"
	Fraction float64
	ETA      time.Duration
	Cached   bool
	Err      string
}

// Knobs override the adaptation budget; zero means "default from config".
type Knobs struct {
	InnerSteps int
	LR         float64
	Rank       int
	Support    int
}

// AdaptRequest asks for one method adapting to one task of a suite.
type AdaptRequest struct {
	Suite  string
	Method string // a Method (the plain string, as events and the CLI carry it)
	Seed   int64
	Knobs  Knobs
}

// ChatRequest asks the model adapted by AdaptRun ("" = base model) to answer.
type ChatRequest struct {
	AdaptRun string
	Prompt   string
	MaxNew   int
	// Stop ends the answer as soon as the generated text contains one of
	// these (besides EOS), e.g. the answer's closing "]" or a newline, so a
	// small model does not run on to the token limit.
	Stop []string
}

// BenchTable is the latest results table: methods × suites.
type BenchTable struct {
	Title   string
	Columns []string // suite names, in display order
	Rows    []BenchRow
}

// BenchRow is one method's cells, aligned with BenchTable.Columns.
type BenchRow struct {
	Method string
	Cells  []BenchCell
}

// BenchCell is a mean accuracy with its 95% interval half-width; N == 0 means
// "not run". Flagged counts the seeds whose run was flagged (e.g. a diverged
// adaptation, events.ResultInfo.Flag): their numbers are in the mean but not
// to be trusted as normal results.
type BenchCell struct {
	Mean, CI95 float64
	N          int
	Flagged    int
}

// Engine is the facade of ARCHITECTURE.md ("core facade used by the TUI").
// Adapt and Chat are asynchronous: they return a run id at once and report
// through Bus events carrying Run == runID.
type Engine interface {
	Bus() *events.Bus
	Suites() []SuiteInfo
	StartPipeline(ctx context.Context)
	Stages() []StageStatus
	Adapt(ctx context.Context, r AdaptRequest) (runID string, err error)
	Chat(ctx context.Context, r ChatRequest) (runID string, err error)
	OptionProbs(ctx context.Context, r ChatRequest) ([]float64, error)
	LatestBench() (*BenchTable, error)
}
