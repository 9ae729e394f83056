package pipeline

import (
	"context"
	"reflect"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/degaml"
)

// generatorStages are the pipeline stages the generator stage runs: LoRA
// trajectory collection, then fitting the generalization module G.
var generatorStages = []string{StageCollect, StageGenerator}

// Generator returns DeGAML's generalization module trained on the in-domain
// suites other than heldOut: the generator stage's artifact, trained once per
// work directory and pool and handed to both degaml-gen (it is all degaml-gen
// learns) and degaml (its policy training starts from it). It is cached under
// <workdir>/meta/generator-… with a manifest, like every staged artifact, and
// keyed by the options G depends on (degaml.GeneratorOptions), so changing a
// policy knob keeps it. Concurrent callers wait for the same training.
func (w *Workbench) Generator(ctx context.Context, heldOut string) (*degaml.DeGAMLArtifact, error) {
	ov, _ := w.artifacts.LoadOrStore("stage:generator/"+heldOut, &onceValue[meta.Artifact]{})
	art, err := ov.(*onceValue[meta.Artifact]).get(func() (art meta.Artifact, err error) {
		err = noPanic("generator training", func() (err error) { art, err = w.loadOrTrainGenerator(ctx, heldOut); return err })
		if err != nil {
			w.failRunningStages(generatorStages, err)
		}
		return art, err
	})
	if err != nil {
		return nil, err
	}
	return art.(*degaml.DeGAMLArtifact), nil
}

func (w *Workbench) loadOrTrainGenerator(ctx context.Context, heldOut string) (meta.Artifact, error) {
	base, baseID, err := w.metaBase(ctx)
	if err != nil {
		return nil, err
	}
	o := w.opts.DeGAML.WithDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	pool := w.metaTrainPool(heldOut)
	dir := w.metaDir("generator", heldOut, key("generator/1", degaml.GeneratorOptions(o), LoRAConfig(w.cfg), baseID, w.poolKey(pool), heldOut))
	load := func(dir string) (meta.Artifact, error) { return degaml.LoadDeGAMLArtifact(dir) }
	return w.cachedArtifact("generator", dir, generatorStages, load, func() (meta.Artifact, error) {
		// A work directory from before this stage existed holds G only inside
		// degaml's artifact: reuse it rather than train G again.
		ddir := w.metaDir(meta.DeGAML, heldOut, key("meta/3", meta.DeGAML, w.opts, LoRAConfig(w.cfg), baseID, w.poolKey(pool), heldOut))
		if verifyDir(ddir) == nil {
			if a, err := degaml.LoadDeGAMLArtifact(ddir); err == nil && reflect.DeepEqual(degaml.GeneratorOptions(a.Options), degaml.GeneratorOptions(o)) {
				for _, s := range generatorStages {
					w.board.finish(s, true, nil)
				}
				return &degaml.DeGAMLArtifact{Options: a.Options, Gen: a.Gen, Report: a.Report}, nil
			}
		}
		// Its events are degaml's, as when the generator was part of
		// degaml's meta-training.
		env := &meta.Env{Backend: w.backend, Model: base, LoRA: LoRAConfig(w.cfg), Publish: w.stagePublisher(meta.DeGAML, generatorStages)}
		gen, err := degaml.TrainGenerator(ctx, env, pool, o, meta.DeGAML, w.trajectories)
		if err != nil {
			return nil, w.metaTrainError("degaml's generator", heldOut, pool, err)
		}
		w.finishStages(meta.DeGAML, generatorStages)
		return gen, nil
	})
}
