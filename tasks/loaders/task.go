package loaders

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"

	"github.com/degaml/workbench/tasks"
)

// MinTaskItems is the fewest multiple-choice items a file needs to become
// a task: enough for a support, a validation and a test split.
const MinTaskItems = 8

// LoadTask loads a benchmark file as one out-of-domain task: its
// multiple-choice items in a fixed shuffle, then support (train) and
// validation splits small enough to adapt on (30 % up to 64 items, 15 % up
// to 32), and every remaining item held out for testing. Items without
// options or an answer cannot be scored and are left out.
func LoadTask(path, format string) (*tasks.Task, error) {
	exs, err := Load(path, format)
	if err != nil {
		return nil, err
	}
	var mc []tasks.Example
	for _, e := range exs {
		if len(e.Options) >= 2 && e.Answer >= 0 {
			mc = append(mc, e)
		}
	}
	if len(mc) < MinTaskItems {
		return nil, fmt.Errorf("%s: %d multiple-choice items; need at least %d to split into support, validation and test", path, len(mc), MinTaskItems)
	}
	// A fixed seed: the same file gives the same splits on every run, so
	// results on it are comparable.
	rng := rand.New(rand.NewPCG(0, 0x5eed))
	rng.Shuffle(len(mc), func(i, j int) { mc[i], mc[j] = mc[j], mc[i] })
	nTrain := min(64, len(mc)*3/10)
	nVal := min(32, len(mc)*15/100)
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return &tasks.Task{Name: name, Suite: path, Domain: "user", Role: tasks.OutOfDomain,
		Splits: tasks.Splits{Train: mc[:nTrain], Val: mc[nTrain : nTrain+nVal], Test: mc[nTrain+nVal:]}}, nil
}
