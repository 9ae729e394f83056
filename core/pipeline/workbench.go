// Package pipeline runs the workbench's staged pipeline (base model →
// checkpoint collection → generalization module → adaptation policy →
// baselines' meta-training) in the background with every stage cached on
// disk, and implements core/api.Engine, the facade the TUI and the SSH server
// use to adapt, evaluate and chat.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gomlx/compute"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/degaml"
	_ "github.com/degaml/workbench/core/meta/methods" // registers every method with meta.New
	"github.com/degaml/workbench/core/sched"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// Workbench is one process's engine: shared, read-only artifacts in a work
// directory, one event bus, one fair job scheduler.
type Workbench struct {
	cfg     *config.Config
	workdir string
	backend compute.Backend
	bus     *events.Bus
	sched   *sched.Scheduler
	board   *stageBoard
	log     *runLog
	opts    meta.Options
	// protocol decides which suites a method meta-trains on before a task
	// is evaluated (ProtocolWorlds unless set).
	protocol atomic.Value

	// local is the session of this process's own front end (the TUI, the
	// CLI); the SSH server gives each connection its own via ForSession.
	local *Session

	baseOnce  onceValue[*models.Model]
	artifacts sync.Map // method name → *onceValue[meta.Artifact]
	// trajectories are DeGAML's collected LoRA trajectories on the base
	// model, shared by the generator stages of different pools.
	trajectories *degaml.Trajectories

	runsMu sync.Mutex
	runs   map[string]*adaptRun
	nextID atomic.Int64

	genOnce sync.Once
	gen     *models.Generator

	pipelineOnce sync.Once
	userTasks    []*tasks.Task
	// files, when set, replaces the built-in suites (taskfiles.go).
	files *TaskSet
}

// adaptRun is a finished (or running) adaptation the chat pane can talk to.
type adaptRun struct {
	method  string
	task    *tasks.Task
	adapted *meta.Adapted
	done    chan struct{}
	err     error
}

// Open prepares a Workbench; nothing is trained until asked.
func Open(cfg *config.Config, workdir string) (*Workbench, error) {
	if workdir == "" {
		workdir = cfg.Pipeline.Workdir
	}
	if workdir == "" {
		workdir = DefaultWorkdir()
	}
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	b, err := engine.New(cfg.Engine.Backend)
	if err != nil {
		return nil, err
	}
	w := &Workbench{
		cfg: cfg, workdir: workdir, backend: b,
		bus:   events.NewBus(),
		sched: sched.New(max(cfg.Serve.Workers, 1)),
		opts:  MethodOptions(cfg),
		runs:  map[string]*adaptRun{},

		trajectories: degaml.NewTrajectories(),
	}
	w.local = w.ForSession("local")
	w.board = newStageBoard(w.bus)
	w.log, err = openRunLog(w.bus, filepath.Join(workdir, "logs"))
	if err != nil {
		return nil, err
	}
	return w, nil
}

// Close cancels running jobs and flushes the run log.
func (w *Workbench) Close() error {
	w.sched.Close()
	return w.log.Close()
}

// SetProtocol chooses the evaluation protocol (ProtocolPaper or
// ProtocolWorlds) of later runs.
func (w *Workbench) SetProtocol(p string) error {
	if p != ProtocolPaper && p != ProtocolWorlds {
		return fmt.Errorf("unknown protocol %q (want %s or %s)", p, ProtocolPaper, ProtocolWorlds)
	}
	w.protocol.Store(p)
	return nil
}

// Protocol is the evaluation protocol in effect.
func (w *Workbench) Protocol() string {
	if p, ok := w.protocol.Load().(string); ok {
		return p
	}
	return ProtocolWorlds
}

// SetMethodOptions replaces the methods' budgets (bench presets use it);
// call it before anything trains, since artifacts are cached by budget.
func (w *Workbench) SetMethodOptions(o meta.Options) { w.opts = o }

// Workdir is the directory holding artifacts, logs and bench results.
func (w *Workbench) Workdir() string { return w.workdir }

// Config is the configuration in effect.
func (w *Workbench) Config() *config.Config { return w.cfg }

// Backend is the compute backend every job shares.
func (w *Workbench) Backend() compute.Backend { return w.backend }

// Bus is the event stream of everything this Workbench does.
func (w *Workbench) Bus() *events.Bus { return w.bus }

// Scheduler is the shared job runner (the SSH server submits through it).
func (w *Workbench) Scheduler() *sched.Scheduler { return w.sched }

// Stages reports the pipeline stages.
func (w *Workbench) Stages() []api.StageStatus { return w.board.snapshot() }

// AddUserTasks makes loaded benchmark files (loaders.LoadTask: Suite is the
// file's path) available in Suites and Adapt. It refuses, before anything
// trains, files the configured model cannot read, as SetTaskSet does: the
// TUI offered them and failed only after pretraining.
func (w *Workbench) AddUserTasks(ts ...*tasks.Task) error {
	if err := w.checkTasksReadable(ts, func(t *tasks.Task) string { return t.Suite }); err != nil {
		return err
	}
	w.userTasks = append(w.userTasks, ts...)
	return nil
}

// Suites lists the twelve built-in suites and any loaded task files.
func (w *Workbench) Suites() []api.SuiteInfo {
	var out []api.SuiteInfo
	if w.files != nil {
		for _, t := range w.files.Tasks {
			info := api.SuiteInfo{Name: t.Name, Domain: t.Domain, Role: string(t.Role), Description: "loaded from " + w.files.Paths[t.Suite]}
			if len(t.Splits.Test) > 0 {
				info.Example = t.Splits.Test[0].DnDPrompt()
			}
			out = append(out, info)
		}
		return out
	}
	for _, f := range suites.All() {
		t := EvalTask(f, w.cfg.Adapt.Seed)
		info := api.SuiteInfo{Name: f.Name(), Domain: f.Domain(), Role: string(f.Role()), Description: f.Description(), Hidden: t.Hidden}
		if len(t.Splits.Test) > 0 {
			info.Example = exampleText(t.Splits.Test[0])
		}
		out = append(out, info)
	}
	for _, t := range w.userTasks {
		info := api.SuiteInfo{Name: t.Name, Domain: t.Domain, Role: "user", Description: "loaded from " + t.Suite}
		if len(t.Splits.Test) > 0 {
			info.Example = t.Splits.Test[0].DnDPrompt()
		}
		out = append(out, info)
	}
	return out
}

// World names the instance (suite, seed) adapts to, with its hidden
// parameters, so front ends show the world a run really uses.
func (w *Workbench) World(suite string, seed int64) (api.World, error) {
	t, err := w.task(suite, seed)
	if err != nil {
		return api.World{}, err
	}
	out := api.World{Suite: suite, Task: t.Name, Seed: seed, Hidden: t.Hidden}
	if len(t.Splits.Test) > 0 {
		ex := t.Splits.Test[0]
		out.Example, out.Options = exampleText(ex), len(ex.Options)
	}
	if t.Hidden != nil {
		out.Show = "workbench tasks show " + t.Name
	}
	return out, nil
}

// exampleText shows an item as the model reads it, then its answer.
func exampleText(ex tasks.Example) string {
	if ex.WordAnswer {
		prefix, answer := train.Format(ex)
		return prefix + "\n→" + answer
	}
	return ex.DnDPrompt() + "\n→ " + ex.DnDResponse()
}

// Task resolves a suite (or a file task set's dataset) to the task a run
// with seed adapts to and is evaluated on.
func (w *Workbench) Task(suite string, seed int64) (*tasks.Task, error) { return w.task(suite, seed) }

// task resolves a suite name to the task instance a run adapts to.
func (w *Workbench) task(suite string, seed int64) (*tasks.Task, error) {
	if w.files != nil {
		// A file's splits are fixed: the seed varies the adaptation only.
		if t := w.files.Task(suite); t != nil {
			return t, nil
		}
		return nil, fmt.Errorf("unknown dataset %q (the task files give %s)", suite, strings.Join(w.files.Names(""), ", "))
	}
	for _, t := range w.userTasks {
		if t.Name == suite {
			return t, nil
		}
	}
	// "arc-easy#3" names one world of a suite (e.g. a meta-training world,
	// for choosing a learning rate on worlds that are never evaluated).
	name, inst, hasInst := strings.Cut(suite, "#")
	f, err := suites.ByName(name)
	if err != nil {
		return nil, err
	}
	if hasInst {
		i, err := strconv.Atoi(inst)
		if err != nil || i < 0 || i >= f.NumInstances() {
			return nil, fmt.Errorf("%s: instance %q is not a number in [0,%d)", name, inst, f.NumInstances())
		}
		return f.Instance(0, i, ""), nil
	}
	return EvalTask(f, seed), nil
}

// StartPipeline trains, in the background, everything the TUI needs: the
// base model and DeGAML's modules, then each baseline's meta-training as a
// job of its own, so that a user's adaptation or chat queued meanwhile runs
// between them (the scheduler round-robins between sessions). Calling it
// again is a no-op. Progress shows in Stages and as stage events.
func (w *Workbench) StartPipeline(ctx context.Context) {
	w.pipelineOnce.Do(func() {
		jobs := [][]string{{meta.DeGAML}, {meta.UnionLoRA}, {meta.MAMLEnLLM}, {meta.ABMLL}}
		for _, methods := range jobs {
			_, _ = w.sched.Submit(ctx, "pipeline", "pipeline "+methods[0], func(ctx context.Context) error {
				if _, err := w.Base(ctx); err != nil {
					return err
				}
				for _, m := range methods {
					if _, err := w.Artifact(ctx, m); err != nil {
						return err
					}
				}
				return nil
			})
		}
	})
}

// LatestBench reads the table the last `workbench bench` wrote.
func (w *Workbench) LatestBench() (*api.BenchTable, error) { return ReadLatestBench(w.workdir) }

// ReadLatestBench reads the table WriteLatestBench left in workdir.
func ReadLatestBench(workdir string) (*api.BenchTable, error) {
	b, err := os.ReadFile(LatestBenchPath(workdir))
	if errors.Is(err, os.ErrNotExist) {
		// Name the work dir when it is not the default one: a bench run
		// without the same --workdir writes its tables elsewhere.
		if filepath.Clean(workdir) != filepath.Clean(DefaultWorkdir()) {
			return nil, fmt.Errorf("no bench results yet: run `workbench bench --workdir %s`", workdir)
		}
		return nil, errors.New("no bench results yet: run `workbench bench`")
	}
	if err != nil {
		return nil, err
	}
	var t api.BenchTable
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", LatestBenchPath(workdir), err)
	}
	return &t, nil
}

// LatestBenchPath is where `workbench bench` leaves its last table.
func LatestBenchPath(workdir string) string { return filepath.Join(workdir, "bench", "latest.json") }

// WriteLatestBench leaves a bench's table where LatestBench reads it, and
// its markdown rendering beside it as latest.md, each replaced whole
// (internal/atomicfile) so a reader never sees half a table.
func WriteLatestBench(workdir string, t *api.BenchTable, markdown []byte) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	path := LatestBenchPath(workdir)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(filepath.Dir(path), "latest.md"), markdown, 0o644)
}

func (w *Workbench) newRunID(kind string) string {
	return fmt.Sprintf("%s-%d-%d", kind, time.Now().Unix()%100000, w.nextID.Add(1))
}

// onceValue computes a value once, but unlike sync.Once a failed or
// canceled attempt is retried by the next caller.
type onceValue[T any] struct {
	mu   sync.Mutex
	done bool
	v    T
}

func (o *onceValue[T]) get(f func() (T, error)) (T, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done {
		return o.v, nil
	}
	v, err := f()
	if err != nil {
		var zero T
		return zero, err
	}
	o.v, o.done = v, true
	return v, nil
}
