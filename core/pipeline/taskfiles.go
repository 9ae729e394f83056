package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/loaders"
)

// A file task set puts a researcher's own benchmark files in place of the
// built-in suites, under the same protocols. Each file is one dataset, the
// paper's unit: the in-domain files are the meta-training pool (the paper
// protocol leaves the evaluated one out of collection and meta-training),
// the out-of-domain files are only evaluated, after meta-training on every
// in-domain file. A file's splits are fixed (loaders.LoadTask), so a seed
// changes the adaptation's randomness, never which items are tested, and an
// item tested under one cell is never a training item of another.

// TaskFile is one benchmark file of a task set and its role.
type TaskFile struct {
	Path string
	Role tasks.Role
	// Name is the dataset name the tables show; "" takes the file's base
	// name without its extension.
	Name string
}

// ParseTaskFile reads a command-line task file argument, FILE or
// NAME=FILE (to name a dataset whose file name does not say it, e.g.
// arc-easy=data/test-00000.jsonl). An argument that is an existing path
// is always a file, even with an "=" in it.
func ParseTaskFile(arg string, role tasks.Role) TaskFile {
	if name, path, ok := strings.Cut(arg, "="); ok && datasetName.MatchString(name) {
		if _, err := os.Stat(arg); err != nil {
			return TaskFile{Path: path, Role: role, Name: name}
		}
	}
	return TaskFile{Path: arg, Role: role}
}

// TaskFileArgs reads the command line's in-domain and out-of-domain file
// arguments (each FILE or NAME=FILE), in-domain first, each in the order
// given.
func TaskFileArgs(inDomain, outOfDomain []string) []TaskFile {
	var out []TaskFile
	for _, a := range inDomain {
		out = append(out, ParseTaskFile(a, tasks.InDomain))
	}
	for _, a := range outOfDomain {
		out = append(out, ParseTaskFile(a, tasks.OutOfDomain))
	}
	return out
}

// datasetName is what a dataset may be called: it names table columns,
// cache directories and bench cells ("#" would read as a world of a suite).
var datasetName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// DatasetName is a file's dataset name: its base name without its
// extension, as loaders.LoadTask names it.
func DatasetName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// TaskSet is a loaded file task set: one task per file, named by its
// dataset name (task Name == Suite), in the order given.
type TaskSet struct {
	Tasks []*tasks.Task
	Paths map[string]string // dataset name → the file it was read from
}

// Names lists the datasets of a role ("" for all), in order.
func (s *TaskSet) Names(r tasks.Role) []string {
	var out []string
	for _, t := range s.Tasks {
		if r == "" || t.Role == r {
			out = append(out, t.Suite)
		}
	}
	return out
}

// Task finds a dataset by name (nil when there is none).
func (s *TaskSet) Task(name string) *tasks.Task {
	for _, t := range s.Tasks {
		if t.Suite == name {
			return t
		}
	}
	return nil
}

// LoadTaskFiles loads every file as one task named by its dataset name,
// with its role. Every file is read before it returns, and every bad one
// reported (the loaders' FILE:LINE errors), so a typo in the last file
// does not surface after hours of meta-training.
func LoadTaskFiles(files []TaskFile) (*TaskSet, error) {
	var errs []error
	set := &TaskSet{Paths: map[string]string{}}
	for _, f := range files {
		if f.Role != tasks.InDomain && f.Role != tasks.OutOfDomain {
			errs = append(errs, fmt.Errorf("%s: role %q (want %s or %s)", f.Path, f.Role, tasks.InDomain, tasks.OutOfDomain))
			continue
		}
		if f.Path == "" { // "NAME=" with the file left out
			errs = append(errs, fmt.Errorf("%s=: no file after the '=' (want NAME=FILE)", f.Name))
			continue
		}
		name := f.Name
		if name == "" {
			name = DatasetName(f.Path)
		}
		if !datasetName.MatchString(name) {
			errs = append(errs, fmt.Errorf("%s: dataset name %q: use letters, digits, '.', '_' and '-' (name it with NAME=%s)", f.Path, name, f.Path))
			continue
		}
		if prev, ok := set.Paths[name]; ok {
			errs = append(errs, fmt.Errorf("%s: dataset name %q is also %s's; name one with NAME=FILE", f.Path, name, prev))
			continue
		}
		set.Paths[name] = f.Path
		t, err := loaders.LoadTask(f.Path, "")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// The dataset name is the suite: the bench's cells, the held-out
		// rule and the meta-training pool all key on it.
		t.Name, t.Suite, t.Domain, t.Role = name, name, "file", f.Role
		set.Tasks = append(set.Tasks, t)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(set.Tasks) == 0 {
		return nil, errors.New("no task files")
	}
	return set, nil
}

// SetTaskSet makes a loaded file task set the workbench's tasks in place of
// the built-in suites: runs, benches and meta-training use only its
// datasets. Call it before anything trains. It checks, without training
// anything, that the configured model can read the files.
func (w *Workbench) SetTaskSet(s *TaskSet) error {
	if s == nil || len(s.Tasks) == 0 {
		return errors.New("pipeline: empty task set")
	}
	if err := w.checkReadable(s); err != nil {
		return err
	}
	w.files = s
	return nil
}

// checkReadable refuses files the built-in word model cannot read: it would
// see only unknown-word tokens and every method would score chance.
func (w *Workbench) checkReadable(s *TaskSet) error {
	return w.checkTasksReadable(s.Tasks, func(t *tasks.Task) string { return s.Paths[t.Suite] })
}

// checkTasksReadable is checkReadable for any tasks; pathOf names the file
// each was read from.
func (w *Workbench) checkTasksReadable(ts []*tasks.Task, pathOf func(*tasks.Task) string) error {
	if w.cfg.Model.HFDir != "" {
		return nil // a checkpoint's tokenizer reads any text (byte-level BPE)
	}
	pr, err := models.PresetByName(w.cfg.Model.Preset)
	if err != nil {
		return err
	}
	tok, err := PresetTokenizer(pr)
	if err != nil {
		return err
	}
	wt, ok := tok.(*tokenizer.Word)
	if !ok {
		return nil
	}
	for _, t := range ts {
		for _, ex := range slices.Concat(t.Splits.Train, t.Splits.Val, t.Splits.Test) {
			if u := wt.Unknown(ex.DnDPrompt()); len(u) > 0 {
				return fmt.Errorf("%s: the built-in model %q reads only its own %d words, and the file has others (%q); set [model] hf_dir to a checkpoint directory, or preset = \"nano\" (bytes)",
					pathOf(t), w.cfg.Model.Preset, len(wt.Words()), u[0])
			}
		}
	}
	return nil
}

// TaskSet is the file task set in use (nil with the built-in suites).
func (w *Workbench) TaskSet() *TaskSet { return w.files }

// HeldOut is the dataset left out of collection and meta-training when a
// task of suite is evaluated under the protocol in effect ("" when none is):
// under the paper protocol an in-domain suite or file holds itself out.
func (w *Workbench) HeldOut(suite string) string {
	if w.files == nil {
		return HeldOutSuite(w.Protocol(), suite)
	}
	if t := w.files.Task(suite); t != nil && t.Role == tasks.InDomain && w.Protocol() == ProtocolPaper {
		return suite
	}
	return ""
}

// metaTrainPool is what a method meta-trains on with heldOut left out: n
// worlds of each built-in in-domain suite, or each in-domain file.
func (w *Workbench) metaTrainPool(heldOut string) []*tasks.Task {
	if w.files == nil {
		return MetaTrainPool(w.cfg.Pipeline.TrainInstances, heldOut)
	}
	var pool []*tasks.Task
	for _, t := range w.files.Tasks {
		if t.Role == tasks.InDomain && t.Suite != heldOut {
			pool = append(pool, t)
		}
	}
	return pool
}

// poolKey identifies a meta-training pool in an artifact's cache key: the
// built-in pool by its size (its worlds are generated), a file pool by its
// datasets' contents, so an edited file retrains rather than reusing an
// artifact learned on the old one.
func (w *Workbench) poolKey(pool []*tasks.Task) any {
	if w.files == nil {
		return w.cfg.Pipeline.TrainInstances
	}
	type dataset struct {
		Name   string
		Splits tasks.Splits
	}
	ds := make([]dataset, len(pool))
	for i, t := range pool {
		ds[i] = dataset{t.Suite, t.Splits}
	}
	return "files:" + key(ds)
}

// TaskSetKey identifies the file task set (names, roles, items) for a
// results file's key; "" for the built-in suites.
func (w *Workbench) TaskSetKey() string {
	if w.files == nil {
		return ""
	}
	type dataset struct {
		Name   string
		Role   tasks.Role
		Splits tasks.Splits
	}
	var ds []dataset
	for _, t := range w.files.Tasks {
		ds = append(ds, dataset{t.Suite, t.Role, t.Splits})
	}
	return key(ds)
}
