package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/degaml"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// Base returns the base model: an imported HF checkpoint, or the preset
// pretrained on the training mixture (cached; resumed after an interruption).
func (w *Workbench) Base(ctx context.Context) (*models.Model, error) {
	return w.baseOnce.get(func() (*models.Model, error) {
		w.board.start(StageBase)
		var m *models.Model
		var cached bool
		err := noPanic("base model", func() (err error) { m, cached, err = w.loadOrTrainBase(ctx); return err })
		w.board.finish(StageBase, cached, err)
		return m, err
	})
}

// baseDir names the cache directory of the configured base model; the key
// covers the built-in vocabulary, since the data is generated from it.
func (w *Workbench) baseDir() (string, models.Config, tokenizer.Tokenizer, error) {
	return baseCacheDir(w.cfg, w.workdir)
}

func baseCacheDir(c *config.Config, workdir string) (string, models.Config, tokenizer.Tokenizer, error) {
	pr, err := models.PresetByName(c.Model.Preset)
	if err != nil {
		return "", pr.Config, nil, err
	}
	tok, err := PresetTokenizer(pr)
	if err != nil {
		return "", pr.Config, nil, err
	}
	p := c.Pipeline
	k := key("base/3", pr.Config, p.PretrainSteps, p.PretrainLR, p.PretrainBatch, suites.Vocabulary())
	return filepath.Join(workdir, "base", c.Model.Preset+"-"+k), pr.Config, tok, nil
}

// TrainedBase is where the pipeline caches the base model cfg pretrains
// in workdir ("" = cfg's, then the default), and whether a finished one is
// there; nothing is trained. `generate --model nano` uses it.
func TrainedBase(c *config.Config, workdir string) (dir string, ok bool, err error) {
	if workdir == "" {
		workdir = c.Pipeline.Workdir
	}
	if workdir == "" {
		workdir = DefaultWorkdir()
	}
	dir, _, _, err = baseCacheDir(c, workdir)
	if err != nil {
		return "", false, err
	}
	_, statErr := os.Stat(filepath.Join(dir, models.CheckpointManifest))
	return dir, statErr == nil, nil
}

// PresetTokenizer is a preset's tokenizer: bytes, or words over the built-in
// suites' vocabulary.
func PresetTokenizer(p models.Preset) (tokenizer.Tokenizer, error) {
	if p.Tokenizer == "word" {
		return tokenizer.NewWord(suites.Vocabulary(), p.Config.VocabSize)
	}
	return tokenizer.NewByte(), nil
}

func (w *Workbench) loadOrTrainBase(ctx context.Context) (*models.Model, bool, error) {
	if dir := w.cfg.Model.HFDir; dir != "" {
		m, err := models.LoadHFWith(dir, models.LoadOptions{Backend: w.backend}) // weights straight into the engine: one copy
		if err == nil && m.Tokenizer == nil {
			err = fmt.Errorf("%s: no tokenizer.json; the workbench needs one to format tasks", dir)
		}
		return m, true, err
	}
	dir, cfg, tok, err := w.baseDir()
	if err != nil {
		return nil, false, err
	}
	ck, err := models.LoadCheckpoint(dir)
	if err == nil {
		return &models.Model{Config: ck.Config, Params: ck.Weights, Tokenizer: tok}, true, nil
	}
	if _, statErr := os.Stat(dir); statErr == nil || !errors.Is(statErr, os.ErrNotExist) {
		w.warnDamaged("base model", dir, err) // it exists but did not verify
	}
	// pretrain resumes from the partial checkpoint when it verifies and
	// starts over when not; say so rather than lose the progress silently.
	partial := dir + ".partial"
	if _, statErr := os.Stat(partial); statErr == nil {
		if _, err := models.LoadCheckpoint(partial); err != nil {
			w.warnDamaged("partial base model", partial, err)
		}
	}
	m, err := w.pretrain(ctx, cfg, tok, dir)
	return m, false, err
}

// Artifact returns what a method learned in meta-training on all six
// in-domain suites (the TUI's pipeline and the worlds protocol).
func (w *Workbench) Artifact(ctx context.Context, method string) (meta.Artifact, error) {
	return w.ArtifactFor(ctx, method, "")
}

// ArtifactFor returns what a method learned in meta-training on the in-domain
// suites other than heldOut ("" holds none out; the paper protocol holds out
// the suite it evaluates), training it on first use and caching it under
// <workdir>/meta. Methods with nothing to share return nil. Concurrent
// callers wait for the same training. degaml-gen's artifact is the generator
// stage's (Generator), which degaml's policy training starts from.
func (w *Workbench) ArtifactFor(ctx context.Context, method, heldOut string) (meta.Artifact, error) {
	if method == meta.DeGAMLGen {
		gen, err := w.Generator(ctx, heldOut)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return gen, nil
	}
	ov, _ := w.artifacts.LoadOrStore(method+"/"+heldOut, &onceValue[meta.Artifact]{})
	return ov.(*onceValue[meta.Artifact]).get(func() (art meta.Artifact, err error) {
		err = noPanic(method+" meta-training", func() (err error) { art, err = w.loadOrMetaTrain(ctx, method, heldOut); return err })
		if err != nil {
			w.failRunningStages(w.stagesOf(method), err)
		}
		return art, err
	})
}

func (w *Workbench) loadOrMetaTrain(ctx context.Context, method, heldOut string) (meta.Artifact, error) {
	m, err := meta.New(method, w.opts)
	if err != nil {
		return nil, err
	}
	base, baseID, err := w.metaBase(ctx)
	if err != nil {
		return nil, err
	}
	pool := w.metaTrainPool(heldOut)
	dir := w.metaDir(method, heldOut, key("meta/3", method, w.opts, LoRAConfig(w.cfg), baseID, w.poolKey(pool), heldOut))
	stages := w.stagesOf(method)
	return w.cachedArtifact(method, dir, stages, m.LoadArtifact, func() (meta.Artifact, error) {
		// Built-in task worlds are disjoint from the base model's pretraining
		// worlds (a LoRA trajectory on a world the base memorized barely moves).
		env := &meta.Env{Backend: w.backend, Model: base, LoRA: LoRAConfig(w.cfg), Publish: w.stagePublisher(method, stages)}
		var art meta.Artifact
		if fg, ok := m.(degaml.FromGenerator); ok {
			// degaml: the generator stage's artifact, trained once and shared
			// with degaml-gen, then the policy.
			gen, err := w.Generator(ctx, heldOut)
			if err != nil {
				return nil, err
			}
			art, err = fg.MetaTrainFrom(ctx, env, gen, pool)
			if err != nil {
				return nil, fmt.Errorf("%s meta-training: %w", method, err)
			}
		} else if art, err = m.MetaTrain(ctx, env, pool); err != nil {
			return nil, w.metaTrainError(method, heldOut, pool, err)
		}
		w.finishStages(method, stages)
		return art, nil
	})
}

// metaTrainError explains a failed meta-training; an empty pool (task files
// with a single in-domain dataset, held out) is the user's to fix.
func (w *Workbench) metaTrainError(what, heldOut string, pool []*tasks.Task, err error) error {
	if len(pool) == 0 {
		return fmt.Errorf("%s meta-trains on the in-domain datasets other than the one evaluated, and there is none besides %s: give more in-domain task files (%w)", what, heldOut, err)
	}
	return fmt.Errorf("%s meta-training: %w", what, err)
}

// metaBase is the base model meta-training runs on, checked against the
// config's LoRA shape, and the id that names it in cache keys.
func (w *Workbench) metaBase(ctx context.Context) (*models.Model, string, error) {
	base, err := w.Base(ctx)
	if err != nil {
		return nil, "", err
	}
	if err := models.LoRAFits(base.Config, LoRAConfig(w.cfg)); err != nil {
		return nil, "", fmt.Errorf("[lora] in the config: %w", err)
	}
	baseID := w.cfg.Model.HFDir
	if baseID == "" {
		baseID, _, _, _ = w.baseDir()
		baseID = filepath.Base(baseID)
	}
	return base, baseID, nil
}

// metaDir is where the artifact called name (a method, or a stage) for the
// pool without heldOut is cached under key k.
func (w *Workbench) metaDir(name, heldOut, k string) string {
	if heldOut != "" {
		name += "-without-" + heldOut
	}
	return filepath.Join(w.workdir, "meta", name+"-"+k)
}

// cachedArtifact returns the artifact cached in dir when its manifest
// verifies (marking stages cached), or builds it and commits it to dir
// (temporary directory, manifest, rename). A damaged artifact is rebuilt
// rather than trusted, and said so. A nil artifact is not cached.
func (w *Workbench) cachedArtifact(what, dir string, stages []string, load func(string) (meta.Artifact, error), build func() (meta.Artifact, error)) (meta.Artifact, error) {
	switch err := verifyDir(dir); {
	case err == nil:
		art, err := load(dir) // NaN/Inf weights are refused by the safetensors reader
		if err == nil {
			for _, s := range stages {
				w.board.finish(s, true, nil)
			}
			return art, nil
		}
		w.warnDamaged(what, dir, err)
	case !errors.Is(err, errNotDone):
		w.warnDamaged(what, dir, err)
	}
	art, err := build()
	if err != nil || art == nil {
		return nil, err
	}
	tmp := dir + ".tmp"
	_ = os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := art.Save(tmp); err != nil {
		return nil, fmt.Errorf("saving %s artifact: %w", what, err)
	}
	if err := commitDir(tmp, dir); err != nil {
		return nil, err
	}
	return art, nil
}

// warnDamaged reports a cached artifact that failed verification; the caller
// then redoes the work. Redoing it silently would hide a failing disk.
func (w *Workbench) warnDamaged(what, dir string, err error) {
	w.bus.Publish(events.Event{Kind: events.Warning, Method: what,
		Message: fmt.Sprintf("cached %s in %s is damaged (%v); building it again", what, dir, err)})
}

// failRunningStages marks the stages a failed (or panicked) stage job left
// running or pending as failed, so no display waits on them forever.
func (w *Workbench) failRunningStages(stages []string, err error) {
	for _, s := range stages {
		if st := w.stageState(s); st == "running" || st == "pending" {
			w.board.finish(s, false, err)
		}
	}
}

// noPanic runs f, turning a panic (a bug, or bad input a check missed) into
// an error, so that the stage it runs in ends failed instead of "running"
// forever.
func noPanic(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: internal error: %v", what, r)
		}
	}()
	return f()
}

// stagesOf maps a method's meta-training onto pipeline stages.
func (w *Workbench) stagesOf(method string) []string {
	switch method {
	case meta.DeGAML:
		return []string{StageCollect, StageGenerator, StagePolicy}
	case meta.UnionLoRA, meta.MAMLEnLLM, meta.ABMLL:
		return []string{StageBaselines}
	}
	return nil
}

func (w *Workbench) stageState(name string) string {
	for _, s := range w.board.snapshot() {
		if s.Name == name {
			return s.State
		}
	}
	return ""
}

// baselineShare is each baseline's slice of the shared "baselines" stage.
var baselineShare = map[string][2]float64{meta.UnionLoRA: {0, 0.2}, meta.MAMLEnLLM: {0.2, 0.6}, meta.ABMLL: {0.6, 1}}

// stagePublisher forwards a method's events to the bus and turns its step
// phases into stage progress: DeGAML's phases "collect", "generator" and
// "policy" are the pipeline stages of the same names.
func (w *Workbench) stagePublisher(method string, stages []string) func(events.Event) {
	return func(e events.Event) {
		if e.Method == "" {
			e.Method = method
		}
		if e.Kind == events.Step && e.Total > 0 {
			frac := float64(e.Step) / float64(e.Total)
			switch method {
			case meta.DeGAML:
				for i, s := range stages {
					// The generator's steps carry Stage "generator" and Phase
					// "generator-eval"; the other phases are named by Phase.
					if s != e.Phase && s != e.Stage {
						continue
					}
					for _, prev := range stages[:i] { // a phase starting ends the ones before it
						if w.stageState(prev) == "running" {
							w.board.finish(prev, false, nil)
						}
					}
					if w.stageState(s) != "running" {
						w.board.start(s)
					}
					w.board.progress(s, frac)
				}
			default:
				if r, ok := baselineShare[method]; ok && len(stages) == 1 {
					if w.stageState(stages[0]) != "running" {
						w.board.start(stages[0])
					}
					w.board.progress(stages[0], r[0]+(r[1]-r[0])*frac)
				}
			}
			if e.Stage == "" && len(stages) > 0 {
				e.Stage = stages[0]
				if method == meta.DeGAML {
					e.Stage = e.Phase
				}
			}
		}
		w.bus.Publish(e)
	}
}

func (w *Workbench) finishStages(method string, stages []string) {
	if method == meta.ABMLL || method == meta.DeGAML {
		for _, s := range stages {
			if st := w.stageState(s); st != "done" && st != "cached" {
				w.board.finish(s, false, nil)
			}
		}
	}
}
