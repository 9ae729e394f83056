// Package tasks holds the data model of the workbench: examples, tasks with
// disjoint splits, and families that generate many task instances from a seed.
// The built-in offline suites live in tasks/suites, loaders for real benchmark
// files in tasks/loaders, and scoring in tasks/scoring.
package tasks

import "fmt"

// Role says whether a suite belongs to the meta-training pool.
type Role string

const (
	InDomain    Role = "in-domain"
	OutOfDomain Role = "out-of-domain"
)

// Example is one item: a prompt with lettered options and the index of the
// right one. Generation-only items leave Options empty and set Target.
type Example struct {
	// Prompt is the question text WITHOUT the option lines.
	Prompt string `json:"prompt"`
	// Options are the option texts in letter order (A, B, ...). True/False
	// items use the options "True" and "False".
	Options []string `json:"options,omitempty"`
	// Answer is the index of the right option, -1 when unknown.
	Answer int `json:"answer"`
	// Target is the free-form target for generation tasks.
	Target string `json:"target,omitempty"`
	// System is an optional system text.
	System string `json:"system,omitempty"`
	// Continuation marks log-likelihood items whose options continue the
	// prompt (HellaSwag endings, WinoGrande suffix scoring) rather than being
	// lettered choices.
	Continuation bool `json:"continuation,omitempty"`
	// WordAnswer marks items answered by the option's word itself rather than
	// its letter: the options are listed inline after the prompt and scored as
	// multiple choice by the log-likelihood of each option word (the lm-eval
	// rule). The built-in suites use it: a tiny model learns word answers, not
	// letter pointing (../shared/SUITES-V2.md).
	WordAnswer bool `json:"word_answer,omitempty"`
}

// Letter returns the option letter for index i ("A" for 0).
func Letter(i int) string { return string(rune('A' + i)) }

// DnDPrompt renders the example in the DnD/DeGAML format:
// "question\nA: opt\nB: opt".
func (e Example) DnDPrompt() string {
	s := e.Prompt
	for i, o := range e.Options {
		s += "\n" + Letter(i) + ": " + o
	}
	return s
}

// DnDResponse is the gold response, e.g. "[B]".
func (e Example) DnDResponse() string {
	if e.Answer < 0 || e.Answer >= len(e.Options) {
		return e.Target
	}
	return "[" + Letter(e.Answer) + "]"
}

// Splits of a task; they never share an example.
type Splits struct {
	Train []Example `json:"train"`
	Val   []Example `json:"val"`
	Test  []Example `json:"test"`
}

// Task is a named set of examples with disjoint splits.
type Task struct {
	Name   string `json:"name"`   // e.g. "math-mc#17"
	Suite  string `json:"suite"`  // e.g. "math-mc"
	Domain string `json:"domain"` // e.g. "math"
	Role   Role   `json:"split_role"`
	Splits Splits `json:"splits"`
	// Hidden describes the hidden per-task parameters a model must discover
	// by adapting (for built-in suites), e.g. {"base": "7"}.
	Hidden map[string]string `json:"hidden,omitempty"`
}

func (t *Task) String() string {
	return fmt.Sprintf("%s (%d/%d/%d)", t.Name, len(t.Splits.Train), len(t.Splits.Val), len(t.Splits.Test))
}

// Family generates task instances. Instance(i) is deterministic in (seed, i).
type Family interface {
	Name() string
	Domain() string
	Role() Role
	Description() string
	// Instance builds task instance i (0 <= i < NumInstances) with the given
	// difficulty level ("easy" or "challenge"; "" means the family default).
	Instance(seed int64, i int, level string) *Task
	NumInstances() int
}
