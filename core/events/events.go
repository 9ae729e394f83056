// Package events defines the typed event stream that the core publishes while
// it trains, adapts and evaluates. The TUI, the CLI and the run log all
// consume this one stream.
package events

import (
	"time"
)

// Kind names what an event reports.
type Kind string

const (
	StageStarted  Kind = "stage_started"
	StageProgress Kind = "stage_progress"
	StageFinished Kind = "stage_finished"
	AdaptStarted  Kind = "adapt_started" // an adaptation run's request as the engine runs it (Adapt)
	Step          Kind = "step"          // one inner-loop / training step
	Hypothesis    Kind = "hypothesis"    // an adaptation hypothesis proposed or rewarded
	Result        Kind = "result"        // a method's result on a task
	Token         Kind = "token"         // a generated token (chat)
	Warning       Kind = "warning"
	Error         Kind = "error"
	Canceled      Kind = "cancelled" // a run stopped by its user (Ctrl-C, a disconnect): its terminal event
	Log           Kind = "log"
)

// StageInterrupted is the Message of a StageFinished event whose stage was
// stopped by its user (Ctrl-C), not failed: a terminal says so instead of
// "failed: context canceled".
const StageInterrupted = "interrupted"

// Event is one thing that happened. Optional numbers are pointers so that
// "absent" and "zero" differ (and JSON stays NaN-free).
type Event struct {
	Time time.Time `json:"time"`
	Kind Kind      `json:"type"`
	Run  string    `json:"run,omitempty"` // run / job id

	Stage  string `json:"stage,omitempty"`  // pipeline stage: an api.Stage
	Method string `json:"method,omitempty"` // an api.Method, e.g. "degaml"
	Task   string `json:"task,omitempty"`
	Phase  string `json:"phase,omitempty"` // e.g. "inner", "outer", "ttt", "slot", "pretrain"

	Step  int `json:"step,omitempty"`
	Total int `json:"total,omitempty"`

	SupportLoss *float64 `json:"support_loss,omitempty"`
	QueryLoss   *float64 `json:"query_loss,omitempty"`
	Accuracy    *float64 `json:"accuracy,omitempty"`
	LR          *float64 `json:"lr,omitempty"`
	MS          float64  `json:"ms,omitempty"`
	TokensPerS  float64  `json:"tokens_per_s,omitempty"`

	// Stage progress.
	Fraction float64       `json:"fraction,omitempty"`
	ETA      time.Duration `json:"eta_ns,omitempty"`
	Cached   bool          `json:"cached,omitempty"`

	Hyp    *HypothesisInfo `json:"hypothesis,omitempty"`
	Result *ResultInfo     `json:"result,omitempty"`
	Adapt  *AdaptInfo      `json:"adapt,omitempty"`

	Text    string `json:"text,omitempty"` // a token's text
	Message string `json:"message,omitempty"`

	// NonFinite names, comma-separated, the numbers JSONSafe removed because
	// they were NaN or ±Inf (JSON cannot carry them). A string, not a slice,
	// keeps Event comparable.
	NonFinite string `json:"non_finite,omitempty"`
}

// HypothesisInfo is an adaptation hypothesis: one family plus its
// hyperparameters, and its reward once executed.
type HypothesisInfo struct {
	Family   string             `json:"family"` // an api.Family: "ttt" | "tts" | "mix" | "slot" | "sft"
	Params   map[string]float64 `json:"params"`
	Accuracy *float64           `json:"accuracy,omitempty"` // validation accuracy once executed
	Baseline *float64           `json:"baseline,omitempty"` // un-adapted generated adapter's validation accuracy
	Reward   *float64           `json:"reward,omitempty"`   // 1 iff Accuracy >= Baseline
	Chosen   bool               `json:"chosen,omitempty"`
	Why      string             `json:"why,omitempty"`
}

// ResultInfo is a method's result on one task.
type ResultInfo struct {
	Method   string          `json:"method"`
	Suite    string          `json:"suite"`
	Task     string          `json:"task"`
	Seed     int64           `json:"seed"`
	Accuracy float64         `json:"accuracy"`
	N        int             `json:"n"`
	ECE      *float64        `json:"ece,omitempty"`
	WallS    float64         `json:"wall_s"`
	Chosen   *HypothesisInfo `json:"chosen,omitempty"`
	// Flag is set when the numbers are not to be trusted as a normal result,
	// e.g. "diverged: loss exploded from 1.4 to 5.6".
	Flag string `json:"flag,omitempty"`
}

// AdaptInfo is an adaptation run as the engine runs it: the request with
// the configuration's defaults filled in, so that a front end shows the
// budget that was really spent instead of re-deriving it from the config.
// A knob the method does not use is 0 (e.g. no LR for degaml-gen, whose
// generator takes no gradient step; Rank is the adapter's shape, fixed by
// meta-training except for nometa-lora).
type AdaptInfo struct {
	Suite      string  `json:"suite"`
	Task       string  `json:"task"` // the instance, e.g. "math-mc#501"
	Method     string  `json:"method"`
	Seed       int64   `json:"seed"`
	InnerSteps int     `json:"inner_steps,omitempty"` // gradient steps on the task
	LR         float64 `json:"lr,omitempty"`          // their learning rate
	Rank       int     `json:"rank,omitempty"`        // the adapter's LoRA rank
	Support    int     `json:"support"`               // labelled support examples
}

// F returns a pointer to v, for optional fields.
func F(v float64) *float64 { return &v }
