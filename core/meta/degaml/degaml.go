package degaml

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// degaml-gen (generalization only) and degaml (generalization + adaptation).
//
// MetaTrain: collect LoRA trajectories on in-domain tasks → train the
// generator G on (prompt batch, checkpoint) pairs → (degaml only) train the
// policy π by ReST^EM on other in-domain tasks, rewarding a hypothesis iff
// its validation accuracy ≥ the generated adapter's.
// Adapt: G generates an adapter from the task's unlabeled prompts; degaml
// then executes the policy's top hypotheses and keeps the best on the
// validation split. Test answers are never read.

func init() {
	meta.Register(meta.DeGAMLGen, func(o meta.Options) (meta.Method, error) {
		return &degamlMethod{name: meta.DeGAMLGen, opts: o.DeGAML.WithDefaults()}, nil
	})
	meta.Register(meta.DeGAML, func(o meta.Options) (meta.Method, error) {
		return &degamlMethod{name: meta.DeGAML, opts: o.DeGAML.WithDefaults()}, nil
	})
}

// NewDeGAML returns the degaml (decoupled=true) or degaml-gen method.
func NewDeGAML(o meta.DeGAMLOptions, decoupled bool) meta.Method {
	name := meta.DeGAMLGen
	if decoupled {
		name = meta.DeGAML
	}
	return &degamlMethod{name: name, opts: o.WithDefaults()}
}

type degamlMethod struct {
	name string
	opts meta.DeGAMLOptions
}

func (m *degamlMethod) Name() string { return m.name }

// DeGAMLArtifact is what DeGAML meta-training learns.
type DeGAMLArtifact struct {
	Options  meta.DeGAMLOptions
	Gen      *Generator
	Report   GenReport
	Policy   *Policy // nil for degaml-gen
	ProjSeed int64   // seed of the policy's random feature projection
}

// degamlFile is the on-disk form (gob): plain slices only.
type degamlFile struct {
	Version    int
	Options    meta.DeGAMLOptions
	LoRA       models.LoRAConfig
	Names      []string
	Shapes     [][]int
	Embed      EmbedSpec
	Decoder    string
	Lambda     float64
	RidgeX     [][]float32
	RidgeB     [][]float32
	RidgeY     [][]float32
	H, P, K, C int
	EmbMean    []float32
	EmbStd     []float32
	OutMean    []float32
	OutScale   []float32
	Params     [][]float32
	ParamDims  [][]int
	Report     GenReport
	HasPolicy  bool
	Hyps       []Hypothesis
	PolicyW    [][]float64
	ProjSeed   int64
}

const degamlFileName = "degaml.gob"

// degamlFileVersion 2: prompt features (EmbedSpec) and the ridge decoder.
const degamlFileVersion = 2

// Save writes the artifact atomically (temporary file + rename), so a crash
// mid-save never leaves a truncated artifact behind.
func (a *DeGAMLArtifact) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	g := a.Gen
	f := degamlFile{Version: degamlFileVersion, Options: a.Options, LoRA: g.LoRA, Names: g.Names, Shapes: g.Shapes,
		Embed: g.Embed, Decoder: g.Decoder, Lambda: g.Lambda, RidgeX: g.RidgeX, RidgeB: g.RidgeB, RidgeY: g.RidgeY,
		H: g.H, P: g.P, K: g.K, C: g.C, EmbMean: g.EmbMean, EmbStd: g.EmbStd, OutMean: g.OutMean, OutScale: g.OutScale,
		Report: a.Report, ProjSeed: a.ProjSeed}
	for _, t := range g.Params {
		f.Params = append(f.Params, tensors.MustCopyFlatData[float32](t))
		f.ParamDims = append(f.ParamDims, t.Shape().Dimensions)
	}
	if a.Policy != nil {
		f.HasPolicy, f.Hyps, f.PolicyW = true, a.Policy.Hyps, a.Policy.W
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&f); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, degamlFileName), buf.Bytes(), 0o644)
}

// LoadDeGAMLArtifact reads what Save wrote. A degaml artifact also serves
// degaml-gen (the policy is then ignored).
func LoadDeGAMLArtifact(dir string) (*DeGAMLArtifact, error) {
	data, err := os.ReadFile(filepath.Join(dir, degamlFileName))
	if err != nil {
		return nil, err
	}
	var f degamlFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return nil, fmt.Errorf("degaml: %s: %w", dir, err)
	}
	if f.Version != degamlFileVersion {
		return nil, fmt.Errorf("degaml: %s: artifact version %d, this build reads version %d (meta-train again)", dir, f.Version, degamlFileVersion)
	}
	g := &Generator{LoRA: f.LoRA, Names: f.Names, Shapes: f.Shapes, H: f.H, P: f.P, K: f.K, C: f.C,
		Embed: f.Embed, Decoder: f.Decoder, Lambda: f.Lambda, RidgeX: f.RidgeX, RidgeB: f.RidgeB, RidgeY: f.RidgeY,
		EmbMean: f.EmbMean, EmbStd: f.EmbStd, OutMean: f.OutMean, OutScale: f.OutScale}
	for i, p := range f.Params {
		g.Params = append(g.Params, tensors.FromFlatDataAndDimensions(p, f.ParamDims[i]...))
	}
	a := &DeGAMLArtifact{Options: f.Options, Gen: g, Report: f.Report, ProjSeed: f.ProjSeed}
	if f.HasPolicy {
		a.Policy = &Policy{Hyps: f.Hyps, W: f.PolicyW}
	}
	return a, nil
}

func (m *degamlMethod) LoadArtifact(dir string) (meta.Artifact, error) {
	a, err := LoadDeGAMLArtifact(dir)
	if err != nil {
		return nil, err
	}
	if m.name == meta.DeGAML && a.Policy == nil {
		return nil, fmt.Errorf("degaml: %s holds a generator-only (degaml-gen) artifact; degaml needs a trained policy", dir)
	}
	return a, nil
}

// GeneratorOptions are the options the generalization module depends on:
// o without the policy's knobs. Two option sets with the same
// GeneratorOptions train the same generator (a cache key of the generator
// stage).
func GeneratorOptions(o meta.DeGAMLOptions) meta.DeGAMLOptions {
	o = o.WithDefaults()
	o.PolicyTasks, o.PolicyIterations, o.PolicyHypotheses, o.PolicyMinPerFamily = 0, 0, 0, 0
	o.PolicyFeatureDim, o.PolicyEpochs, o.PolicyLR, o.PolicyL2, o.AdaptTopK = 0, 0, 0, 0, 0
	return o
}

// TrainGenerator is DeGAML's first meta-training stage, shared by degaml-gen
// and degaml: it collects LoRA trajectories on the pool's in-domain tasks and
// fits the generalization module G on them. Its artifact (no policy) is all
// degaml-gen learns, and what degaml's policy training starts from
// (FromGenerator). method labels the events; trajectories (nil: none) shares
// collected trajectories between pools.
func TrainGenerator(ctx context.Context, env *meta.Env, pool []*tasks.Task, o meta.DeGAMLOptions, method string, trajectories *Trajectories) (*DeGAMLArtifact, error) {
	m := &degamlMethod{name: method, opts: o.WithDefaults()}
	o = m.opts
	r, err := newDGRuntime(env)
	if err != nil {
		return nil, err
	}
	spec, err := r.embedSpecFor(o)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	collected, err := collectCheckpoints(ctx, r, pool, o, spec, m.name, trajectories)
	if err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: m.name, Stage: "collect",
		Message: fmt.Sprintf("collected %d trajectories (%d checkpoints each from one shared init; mean final loss %.3f, mean val acc %.3f) in %.1fs",
			len(collected.Tasks), len(collected.Tasks[0].Ckpts), meanOf(collected, func(c *CollectedTask) float64 { return c.FinalLoss }),
			meanOf(collected, func(c *CollectedTask) float64 { return c.ValAcc }), time.Since(start).Seconds())})
	start = time.Now()
	art, err := m.trainGen(ctx, r, collected, spec)
	if err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: m.name, Stage: "generator",
		Message: fmt.Sprintf("%s (%.1fs)", art.Report.Summary(), time.Since(start).Seconds())})
	if art.Report.CollapsedMean {
		kit.Warn(env, m.name, "", "generator: validation kept the mean checkpoint — every generated adapter is the same whatever the prompts")
	}
	return &DeGAMLArtifact{Options: o, Gen: art.Gen, Report: art.Report}, nil
}

// FromGenerator is meta-training that starts from the generator stage's
// artifact (TrainGenerator with the same pool and GeneratorOptions):
// degaml-gen has nothing more to learn, degaml trains its policy. The
// registered degaml-gen and degaml methods implement it; MetaTrain is
// TrainGenerator followed by MetaTrainFrom.
type FromGenerator interface {
	meta.Method
	MetaTrainFrom(ctx context.Context, env *meta.Env, gen *DeGAMLArtifact, pool []*tasks.Task) (meta.Artifact, error)
}

func (m *degamlMethod) MetaTrain(ctx context.Context, env *meta.Env, pool []*tasks.Task) (meta.Artifact, error) {
	gen, err := TrainGenerator(ctx, env, pool, m.opts, m.name, nil)
	if err != nil {
		return nil, err
	}
	return m.MetaTrainFrom(ctx, env, gen, pool)
}

func (m *degamlMethod) MetaTrainFrom(ctx context.Context, env *meta.Env, gen *DeGAMLArtifact, pool []*tasks.Task) (meta.Artifact, error) {
	o := m.opts
	if gen == nil || gen.Gen == nil {
		return nil, fmt.Errorf("%s: meta-training needs the generator stage's artifact", m.name)
	}
	if !reflect.DeepEqual(GeneratorOptions(gen.Options), GeneratorOptions(o)) {
		return nil, fmt.Errorf("%s: the generator was trained with other options", m.name)
	}
	if m.name == meta.DeGAMLGen {
		return &DeGAMLArtifact{Options: o, Gen: gen.Gen, Report: gen.Report}, nil
	}
	r, err := newDGRuntime(env)
	if err != nil {
		return nil, err
	}
	// The policy learns on tasks collection did not use (collection picks
	// the same tasks of this pool again).
	skip := map[*tasks.Task]bool{}
	for _, t := range pickTasks(pool, o.CollectTasks, nil) {
		skip[t] = true
	}
	start := time.Now()
	out := &DeGAMLArtifact{Options: o, Gen: gen.Gen, Report: gen.Report, ProjSeed: o.Seed + 101}
	if out.Policy, err = m.trainPolicy(ctx, r, out, pool, skip); err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: m.name, Stage: "policy",
		Message: fmt.Sprintf("policy trained by ReST^EM in %.1fs", time.Since(start).Seconds())})
	return out, nil
}

// trainGen fits the generator on the collected set and measures it on tasks
// it was not fit on: MSE and validation accuracy of the generated adapter
// beside the mean checkpoint and, when tasks expose a hidden "regime", the
// same-regime mean checkpoint (GenReport).
func (m *degamlMethod) trainGen(ctx context.Context, r *dgRuntime, set *CheckpointSet, spec EmbedSpec) (*DeGAMLArtifact, error) {
	o := m.opts
	var trainIdx, heldIdx []int
	d := genData{}
	for i, ct := range set.Tasks {
		d.Emb = append(d.Emb, ct.Emb)
		d.Ckpts = append(d.Ckpts, ct.Ckpts)
		if o.HeldOutEvery > 0 && len(set.Tasks) >= 2 && i%o.HeldOutEvery == o.HeldOutEvery-1 {
			heldIdx = append(heldIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	skeleton := func() *Generator {
		return &Generator{LoRA: set.LoRA, Names: set.Names, Shapes: set.Shapes, Embed: spec, H: spec.Dim(), P: o.PromptBatch}
	}
	ev := &genEvaluator{m: m, r: r, set: set, d: d, seed: o.Seed}
	var g *Generator
	var rep GenReport
	switch o.GenDecoder {
	case meta.GenHC:
		g = newGenerator(set.LoRA, set.Names, set.Shapes, spec.Dim(), o.PromptBatch, o.GenKernel, o.GenChannels, o.Seed)
		g.Embed = spec
		var err error
		rep, err = trainGenerator(ctx, r.env.Backend, g, d, trainIdx, heldIdx, genTrainOpts{
			Steps: o.GenSteps, Batch: o.GenBatch, LR: o.GenLR, WD: o.GenWD, Noise: o.GenNoise,
			Weighting: o.GenWeighting, StdFloor: o.GenStdFloor, Seed: o.Seed, method: m.name, publish: r.env.Publish})
		if err != nil {
			return nil, err
		}
		fitIdx, innerIdx := hcSplit(trainIdx)
		for _, t := range innerIdx {
			ev.add(t, g, fitIdx)
		}
	default:
		rd := newRidgeData(d, set.Shapes, o.PromptBatch, o.GenRidgeRows, o.GenWeighting, o.Seed)
		ro := ridgeOpts{Folds: o.GenFolds, StdFloor: o.GenStdFloor, Weighting: o.GenWeighting}
		g = skeleton()
		cv := fitRidge(g, d, rd, trainIdx, ro)
		rep = GenReport{Decoder: meta.GenRidge, Tasks: len(trainIdx), Lambda: cv.Rel, Folds: max(1, min(o.GenFolds, len(trainIdx))),
			ValTasks: len(trainIdx), ValMSE: cv.MSEBest, ValMSEMean: cv.MSEMean, CollapsedMean: math.IsInf(cv.Rel, 1),
			HeldOutTasks: len(heldIdx), Select: meta.GenSelectMSE,
			ValAccGen: -1, ValAccMean: -1, ValAccOracle: -1, HeldOutGenAcc: -1, HeldOutMeanAcc: -1}
		if o.GenSelect == meta.GenSelectAccuracy && len(trainIdx) >= 2 {
			accs, oracle, err := m.ridgeAccuracyCV(ctx, r, set, d, rd, trainIdx, ro, skeleton)
			if err != nil {
				return nil, err
			}
			inf := len(ridgeAccuracyGrid) - 1
			best := inf
			for i := inf - 1; i >= 0; i-- { // ties keep the larger λ
				if accs[i] > accs[best] {
					best = i
				}
			}
			rel := ridgeAccuracyGrid[best]
			fitRidgeAt(g, d, rd, trainIdx, ro, rel)
			rep.Select, rep.Lambda, rep.CollapsedMean = meta.GenSelectAccuracy, rel, math.IsInf(rel, 1)
			rep.ValMSE = cv.MSE[slices.Index(ridgeLambdaGrid, rel)]
			rep.ValAccGen, rep.ValAccMean, rep.ValAccOracle = accs[best], accs[inf], oracle
		} else if len(trainIdx) >= 2 {
			// Cross-fitted accuracy: every training task is scored with a
			// generator (λ selected again inside) fit without its fold.
			for _, fold := range ridgeFolds(trainIdx, o.GenFolds) {
				var rest []int
				for _, t := range trainIdx {
					if !slices.Contains(fold, t) {
						rest = append(rest, t)
					}
				}
				sub := skeleton()
				fitRidge(sub, d, rd, rest, ro)
				for _, t := range fold {
					ev.add(t, sub, rest)
				}
			}
		}
		for _, t := range heldIdx {
			rep.HeldOutMSE0 += weightMSE(g.OutMean, d.Ckpts[t], g.OutScale) / float64(len(heldIdx))
			pred := g.ridgePredict(batchMean(d.Emb[t], samplePromptBatch(kit.NewRNG(o.Seed, uint64(t)), len(d.Emb[t]), g.P)))
			rep.HeldOutMSE += weightMSE(pred, d.Ckpts[t], g.OutScale) / float64(len(heldIdx))
		}
	}
	var err error
	if len(ev.jobs) > 0 {
		if rep.ValAccGen, rep.ValAccMean, rep.ValAccOracle, err = ev.run(ctx, "validation"); err != nil {
			return nil, err
		}
	}
	held := &genEvaluator{m: m, r: r, set: set, d: d, seed: o.Seed}
	for _, t := range heldIdx {
		held.add(t, g, trainIdx)
	}
	if rep.HeldOutGenAcc, rep.HeldOutMeanAcc, _, err = held.run(ctx, "held-out"); err != nil {
		return nil, err
	}
	return &DeGAMLArtifact{Options: o, Gen: g, Report: rep}, nil
}

// ridgeAccuracyCV is the cross-fitted mean validation accuracy of ridge
// generators at every λ of ridgeAccuracyGrid (the last, ∞, is the mean
// checkpoint): each task is scored by a generator fit without its fold. It
// also returns the same-regime oracle's accuracy (-1 without regimes).
func (m *degamlMethod) ridgeAccuracyCV(ctx context.Context, r *dgRuntime, set *CheckpointSet, d genData, rd *ridgeData,
	trainIdx []int, ro ridgeOpts, skeleton func() *Generator) (accs []float64, oracle float64, err error) {
	ev := &genEvaluator{m: m, r: r, set: set, d: d}
	accs = make([]float64, len(ridgeAccuracyGrid))
	var n, no int
	var so float64
	folds := ridgeFolds(trainIdx, m.opts.GenFolds)
	for fi, fold := range folds {
		var rest []int
		for _, t := range trainIdx {
			if !slices.Contains(fold, t) {
				rest = append(rest, t)
			}
		}
		subs := make([]*Generator, len(ridgeAccuracyGrid))
		for i, rel := range ridgeAccuracyGrid {
			subs[i] = skeleton()
			fitRidgeAt(subs[i], d, rd, rest, ro, rel)
		}
		for _, t := range fold {
			val := kit.Labelled(set.Tasks[t].Task.Splits.Val)
			if len(val) == 0 {
				continue
			}
			for i, g := range subs {
				ad, err := g.Generate(r.env.Backend, d.Emb[t], kit.NewRNG(m.opts.Seed, uint64(t)))
				if err != nil {
					return nil, -1, err
				}
				a, _, _, err := meta.Evaluate(ctx, r.env, &meta.Adapted{Adapter: ad}, val)
				if err != nil {
					return nil, -1, err
				}
				accs[i] += a
			}
			if rm := ev.regimeMean(t, rest); rm != nil {
				a, _, _, err := meta.Evaluate(ctx, r.env, &meta.Adapted{Adapter: subs[0].adapterFromFlat(rm)}, val)
				if err != nil {
					return nil, -1, err
				}
				so += a
				no++
			}
			n++
		}
		r.env.Publish(events.Event{Kind: events.Step, Method: m.name, Stage: "generator", Phase: "generator-eval",
			Step: fi + 1, Total: len(folds), Message: "ridge λ by cross-fitted validation accuracy"})
	}
	for i := range accs {
		accs[i] /= float64(max(n, 1))
	}
	oracle = -1
	if no > 0 {
		oracle = so / float64(no)
	}
	return accs, oracle, nil
}

// weightMSE is the standardized MSE of a flat prediction against every
// checkpoint of a task.
func weightMSE(pred []float32, ckpts [][]float32, scale []float32) float64 {
	var tot float64
	for _, ck := range ckpts {
		for j, v := range ck {
			dv := float64(pred[j]-v) / float64(scale[j])
			tot += dv * dv
		}
	}
	return tot / float64(len(ckpts)*len(pred))
}

// genEvaluator scores, on collected tasks' validation splits, the adapter a
// generator fit without them emits, the mean checkpoint of its fit tasks and
// the mean checkpoint of its fit tasks of the same hidden regime.
type genEvaluator struct {
	m    *degamlMethod
	r    *dgRuntime
	set  *CheckpointSet
	d    genData
	seed int64
	jobs []genEvalJob
}

type genEvalJob struct {
	task int
	g    *Generator
	fit  []int
}

func (e *genEvaluator) add(task int, g *Generator, fit []int) {
	e.jobs = append(e.jobs, genEvalJob{task: task, g: g, fit: fit})
}

// regimeOf is a task's hidden regime label ("" when the suite has none).
func regimeOf(t *tasks.Task) string { return t.Hidden["regime"] }

// regimeMean is the mean of the task-mean checkpoints of the fit tasks that
// share task's regime (nil when none does or there are no regimes).
func (e *genEvaluator) regimeMean(task int, fit []int) []float32 {
	reg := regimeOf(e.set.Tasks[task].Task)
	if reg == "" {
		return nil
	}
	var same []int
	for _, t := range fit {
		if regimeOf(e.set.Tasks[t].Task) == reg {
			same = append(same, t)
		}
	}
	if len(same) == 0 {
		return nil
	}
	mean, _ := outStats(e.d.Ckpts, same, e.set.Shapes, "none")
	return mean
}

// run evaluates every job and returns the mean accuracies (-1 when nothing
// was scored; oracle -1 without regimes).
func (e *genEvaluator) run(ctx context.Context, what string) (gen, mean, oracle float64, err error) {
	gen, mean, oracle = -1, -1, -1
	var sg, sm, so float64
	var n, no int
	for i, j := range e.jobs {
		ct := e.set.Tasks[j.task]
		val := kit.Labelled(ct.Task.Splits.Val)
		if len(val) == 0 {
			continue
		}
		ad, err := j.g.Generate(e.r.env.Backend, e.d.Emb[j.task], kit.NewRNG(e.seed, uint64(j.task)))
		if err != nil {
			return gen, mean, oracle, err
		}
		ag, _, _, err := meta.Evaluate(ctx, e.r.env, &meta.Adapted{Adapter: ad}, val)
		if err != nil {
			return gen, mean, oracle, err
		}
		am, _, _, err := meta.Evaluate(ctx, e.r.env, &meta.Adapted{Adapter: j.g.MeanAdapter()}, val)
		if err != nil {
			return gen, mean, oracle, err
		}
		msg := fmt.Sprintf("%s task: val accuracy generated %.3f, mean checkpoint %.3f", what, ag, am)
		if rm := e.regimeMean(j.task, j.fit); rm != nil {
			ao, _, _, err := meta.Evaluate(ctx, e.r.env, &meta.Adapted{Adapter: j.g.adapterFromFlat(rm)}, val)
			if err != nil {
				return gen, mean, oracle, err
			}
			so += ao
			no++
			msg += fmt.Sprintf(", same-regime mean %.3f", ao)
		}
		e.r.env.Publish(events.Event{Kind: events.Step, Method: e.m.name, Task: ct.Task.Name, Stage: "generator", Phase: "generator-eval",
			Step: i + 1, Total: len(e.jobs), Accuracy: events.F(ag), Message: msg})
		sg += ag
		sm += am
		n++
	}
	if n > 0 {
		gen, mean = sg/float64(n), sm/float64(n)
	}
	if no > 0 {
		oracle = so / float64(no)
	}
	return gen, mean, oracle, nil
}

// taskState is everything hypothesis execution needs about one task.
type taskState struct {
	task    *tasks.Task
	prompts []tasks.Example // unlabeled prompts (TTT, SLOT)
	support []tasks.Example // labelled support set (SFT)
	emb     [][]float32     // their embeddings (generation)
	val     []tasks.Example // labelled validation split (rewards, selection)
	gen     *models.Adapter // the un-adapted generated adapter
	genAcc  float64         // its validation accuracy: the reward baseline
	conf    float64
	ent     float64
	phi     []float64
}

// prepareTask generates the task's adapter and computes the policy features:
// a random projection of the mean standardized prompt embedding, the
// generated adapter's mean max-probability and normalized entropy on the
// validation prompts (label-free), and a bias.
func (m *degamlMethod) prepareTask(ctx context.Context, r *dgRuntime, art *DeGAMLArtifact, task *tasks.Task, prompts []tasks.Example, seed int64) (*taskState, error) {
	o := art.Options
	ts := &taskState{task: task, prompts: kit.Unlabeled(prompts), support: kit.Labelled(task.Splits.Train), val: kit.Labelled(task.Splits.Val)}
	var err error
	if ts.emb, err = r.EncodePrompts(ctx, promptSubset(ts.prompts, o.PromptPool, seed), art.Gen.Embed, o.PromptMaxTokens); err != nil {
		return nil, err
	}
	if ts.gen, err = art.Gen.Generate(r.env.Backend, ts.emb, kit.NewRNG(seed, 0x6e)); err != nil {
		return nil, err
	}
	if len(ts.val) > 0 {
		var probs [][]float64
		ts.genAcc, _, probs, err = meta.Evaluate(ctx, r.env, &meta.Adapted{Adapter: ts.gen}, ts.val)
		if err != nil {
			return nil, err
		}
		ts.conf, ts.ent = confidenceStats(probs)
	}
	ts.phi = policyFeatures(art, ts.emb, ts.conf, ts.ent)
	return ts, nil
}

// policyFeatures builds φ = [P·mean(standardized emb) (d), conf, entropy, 1].
func policyFeatures(art *DeGAMLArtifact, emb [][]float32, conf, ent float64) []float64 {
	g := art.Gen
	d := art.Options.WithDefaults().PolicyFeatureDim
	mean := make([]float64, g.H)
	for _, e := range emb {
		for h := range g.H {
			mean[h] += float64((e[h]-g.EmbMean[h])/g.EmbStd[h]) / float64(len(emb))
		}
	}
	rng := rand.New(rand.NewPCG(uint64(art.ProjSeed), 0x9e0))
	phi := make([]float64, 0, d+3)
	for range d {
		var s float64
		for h := range g.H {
			s += rng.NormFloat64() * mean[h]
		}
		phi = append(phi, math.Tanh(s/math.Sqrt(float64(g.H))))
	}
	return append(phi, conf, ent, 1)
}

// execHypothesis runs one hypothesis starting from adapter cur.
func (m *degamlMethod) execHypothesis(ctx context.Context, r *dgRuntime, art *DeGAMLArtifact, ts *taskState, cur *models.Adapter, h Hypothesis, seed int64) (*meta.Adapted, error) {
	o := art.Options
	fc := famCtx{method: m.name, task: ts.task.Name, publish: r.env.Publish}
	rng := kit.NewRNG(seed, 0x4e5)
	switch h.Family {
	case FamTTT:
		ad, err := r.TTT(ctx, fc, cur, ts.prompts, int(h.Params["steps"]), int(h.Params["batch"]), h.Params["lr"], o.TTTWD, o.PromptMaxTokens, seed)
		if err != nil {
			return nil, err
		}
		return &meta.Adapted{Adapter: ad}, nil
	case FamSLOT:
		delta, err := r.SLOT(ctx, fc, cur, kit.ShuffledCopy(rng, ts.prompts), int(h.Params["steps"]), h.Params["lr"], o.SlotWD, o.SlotMaxPrompts, o.PromptMaxTokens)
		if err != nil {
			return nil, err
		}
		return &meta.Adapted{Adapter: cur, SlotDelta: delta}, nil
	case FamTTS:
		k := int(h.Params["k"])
		members := []*models.Adapter{cur}
		for i := 1; i < k; i++ {
			start := time.Now()
			ad, err := art.Gen.Generate(r.env.Backend, ts.emb, rng) // a resampled prompt batch
			if err != nil {
				return nil, err
			}
			members = append(members, ad)
			fc.publish(kit.StepEvent(m.name, ts.task.Name, FamTTS, i+1, k, 0, start))
		}
		vote := meta.VoteMajority
		if h.Params["maxconf"] > 0 {
			vote = meta.VoteMaxConf
		}
		return &meta.Adapted{Ensemble: members, Vote: vote}, nil
	case FamMix:
		start := time.Now()
		other, err := art.Gen.Generate(r.env.Backend, ts.emb, rng)
		if err != nil {
			return nil, err
		}
		mixed := MixDeltaAdapters(cur, other, h.Params["lambda"])
		if o.MixMode == meta.MixFactors && cur.Config.Rank == other.Config.Rank {
			// (a carried delta-mixed adapter has a larger rank: factors
			// cannot be interpolated, the delta variant is used instead)
			mixed = MixAdapters(cur, other, h.Params["lambda"])
		}
		fc.publish(kit.StepEvent(m.name, ts.task.Name, FamMix, 1, 1, 0, start))
		return &meta.Adapted{Adapter: mixed}, nil
	case FamSFT:
		ad, err := r.SFT(ctx, fc, cur, ts.support, int(h.Params["steps"]), max(1, int(h.Params["batch"])), h.Params["lr"], o.PromptMaxTokens, seed)
		if err != nil {
			return nil, err
		}
		return &meta.Adapted{Adapter: ad}, nil
	}
	return nil, fmt.Errorf("degaml: unknown hypothesis family %q", h.Family)
}

func cloneParams(p map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// publishHyp reports a hypothesis; stage is "policy" during meta-training
// and "" at adaptation time.
func (m *degamlMethod) publishHyp(env *meta.Env, stage, task string, step int, info events.HypothesisInfo) {
	env.Publish(events.Event{Kind: events.Hypothesis, Method: m.name, Task: task, Stage: stage, Phase: info.Family, Step: step, Hyp: &info})
}

// trainPolicy runs ReST^EM on in-domain tasks not used for collection.
func (m *degamlMethod) trainPolicy(ctx context.Context, r *dgRuntime, art *DeGAMLArtifact, pool []*tasks.Task, skip map[*tasks.Task]bool) (*Policy, error) {
	o := art.Options
	var cands []*tasks.Task
	for _, t := range pickTasks(pool, len(pool), skip) {
		if len(kit.Labelled(t.Splits.Val)) > 0 {
			cands = append(cands, t)
		}
	}
	if len(cands) == 0 { // tiny pools: reuse the collected tasks
		for _, t := range pickTasks(pool, len(pool), nil) {
			if len(kit.Labelled(t.Splits.Val)) > 0 {
				cands = append(cands, t)
			}
		}
	}
	cands = pickTasks(cands, o.PolicyTasks, nil)
	if len(cands) == 0 {
		return nil, fmt.Errorf("degaml: no in-domain task with a labelled val split to train the policy on")
	}
	states := make([]*taskState, len(cands))
	phis := make([][]float64, len(cands))
	cur := make([]*models.Adapter, len(cands))
	curAcc := make([]float64, len(cands))
	for i, t := range cands {
		prompts := append(append([]tasks.Example(nil), t.Splits.Train...), t.Splits.Val...)
		ts, err := m.prepareTask(ctx, r, art, t, prompts, o.Seed+int64(i))
		if err != nil {
			return nil, err
		}
		states[i], phis[i], cur[i], curAcc[i] = ts, ts.phi, ts.gen, ts.genAcc
	}
	hyps := HypothesisGrid(o)
	// Progress of the "policy" stage counts executed hypotheses.
	done, totalHyps := 0, o.PolicyIterations*len(cands)*min(max(o.PolicyHypotheses, len(Families)*o.PolicyMinPerFamily), len(hyps))
	co := &coevolution{cur: cur, curAcc: curAcc}
	exec := func(ctx context.Context, it, t, hi int, start *models.Adapter) (*meta.Adapted, float64, error) {
		ts := states[t]
		ad, err := m.execHypothesis(ctx, r, art, ts, start, hyps[hi], o.Seed+int64(1000*it+100*t+hi))
		if err != nil {
			return nil, 0, err
		}
		// VALIDATION accuracy: test items are never touched during training
		// (the public code's leak, fixed).
		acc, _, _, err := meta.Evaluate(ctx, r.env, ad, ts.val)
		return ad, acc, err
	}
	report := func(it, t int, h Hypothesis, acc, startAcc, reward float64, tie, carried bool) {
		ts := states[t]
		info := events.HypothesisInfo{Family: h.Family, Params: cloneParams(h.Params),
			Accuracy: events.F(acc), Baseline: events.F(startAcc), Reward: events.F(reward),
			Why: fmt.Sprintf("ReST^EM iteration %d: sampled from the policy; reward %g (val %.3f vs its starting adapter %.3f)", it+1, reward, acc, startAcc)}
		if tie {
			info.Why += "; a tie is not rewarded (no evidence of a gain)"
		}
		if carried {
			info.Chosen = true
			info.Why = fmt.Sprintf("co-evolution: carried into iteration %d (val %.3f > previous %.3f)", it+2, acc, startAcc)
		}
		m.publishHyp(r.env, "policy", ts.task.Name, it+1, info)
		if !carried {
			done++
			r.env.Publish(events.Event{Kind: events.Step, Method: m.name, Task: ts.task.Name, Stage: "policy", Phase: "policy",
				Step: done, Total: totalHyps, Accuracy: events.F(acc)})
		}
	}
	pol, err := runReSTEM(ctx, hyps, phis, restemConfig{
		Iterations: o.PolicyIterations, Hypotheses: o.PolicyHypotheses, MinPerFamily: o.PolicyMinPerFamily,
		Epochs: o.PolicyEpochs, LR: o.PolicyLR, L2: o.PolicyL2, Seed: o.Seed,
	}, co.runner(hyps, exec, report))
	if err != nil {
		return nil, err
	}
	r.env.Publish(events.Event{Kind: events.Log, Method: m.name, Stage: "policy",
		Message: fmt.Sprintf("ReST^EM: %d of %d hypotheses rewarded, %d ties with their starting adapter (not rewarded); by family: %s",
			co.rewarded, co.executed, co.ties, co.familySummary())})
	return pol, nil
}

// coevolution is ReST^EM's per-task state: the adapter each policy task's
// hypotheses start from (the generated adapter, then the best carried
// adapter) and its validation accuracy.
type coevolution struct {
	cur                      []*models.Adapter
	curAcc                   []float64
	executed, rewarded, ties int
	byFamily                 map[string]*[3]int // executed, rewarded, ties
}

// familySummary renders the per-family reward counts, e.g. "sft 9/24 (3 ties)".
func (c *coevolution) familySummary() string {
	var parts []string
	for _, f := range Families {
		if n := c.byFamily[f]; n != nil {
			parts = append(parts, fmt.Sprintf("%s %d/%d (%d ties)", f, n[1], n[0], n[2]))
		}
	}
	return strings.Join(parts, ", ")
}

// hypExec executes hypothesis hi of task t from adapter start and returns
// the result and its validation accuracy.
type hypExec func(ctx context.Context, it, t, hi int, start *models.Adapter) (*meta.Adapted, float64, error)

// hypReport is told every judged hypothesis (carried = the co-evolution
// step's re-announcement of the carried one).
type hypReport func(it, t int, h Hypothesis, acc, startAcc, reward float64, tie, carried bool)

// rewardOf is ReST^EM's binary reward: 1 iff the hypothesis' validation
// accuracy is strictly above that of the adapter it STARTED from. Measuring
// against the starting adapter (not the un-adapted generated one) keeps a
// hypothesis that merely inherits an earlier gain from being rewarded, and
// the strict inequality keeps no-ops (a tie) unrewarded.
func rewardOf(acc, startAcc float64) (reward float64, tie bool) {
	switch {
	case acc > startAcc:
		return 1, false
	case acc == startAcc:
		return 0, true
	}
	return 0, false
}

// runner is the restemRunner of co-evolution: every hypothesis runs from
// the task's current adapter and is rewarded against that adapter's
// accuracy; the best single adapter (TTT, SFT, mixing — not an ensemble or a
// SLOT δ) that strictly beats it becomes the next iteration's start.
func (c *coevolution) runner(hyps []Hypothesis, exec hypExec, report hypReport) restemRunner {
	return func(ctx context.Context, it, t int, hs []int) ([]float64, error) {
		start, startAcc := c.cur[t], c.curAcc[t]
		rewards := make([]float64, len(hs))
		bestI, bestAcc := -1, startAcc
		var bestAd *models.Adapter
		for i, hi := range hs {
			ad, acc, err := exec(ctx, it, t, hi, start)
			if err != nil {
				return nil, err
			}
			var tie bool
			rewards[i], tie = rewardOf(acc, startAcc)
			if c.byFamily == nil {
				c.byFamily = map[string]*[3]int{}
			}
			fam := c.byFamily[hyps[hi].Family]
			if fam == nil {
				fam = &[3]int{}
				c.byFamily[hyps[hi].Family] = fam
			}
			c.executed++
			fam[0]++
			if tie {
				c.ties++
				fam[2]++
			}
			if rewards[i] > 0 {
				c.rewarded++
				fam[1]++
			}
			report(it, t, hyps[hi], acc, startAcc, rewards[i], tie, false)
			if ad.Adapter != nil && len(ad.Ensemble) == 0 && ad.SlotDelta == nil && acc > bestAcc {
				bestI, bestAcc, bestAd = i, acc, ad.Adapter
			}
		}
		if bestI >= 0 {
			report(it, t, hyps[hs[bestI]], bestAcc, startAcc, 1, false, true)
			c.cur[t], c.curAcc[t] = bestAd, bestAcc
		}
		return rewards, nil
	}
}

func (m *degamlMethod) Adapt(ctx context.Context, env *meta.Env, a meta.Artifact, task *tasks.Task, seed int64) (*meta.Adapted, error) {
	art, ok := a.(*DeGAMLArtifact)
	if !ok || art == nil || art.Gen == nil {
		return nil, fmt.Errorf("%s: needs a DeGAML artifact, got %T", m.name, a)
	}
	if m.name == meta.DeGAML && art.Policy == nil {
		return nil, fmt.Errorf("degaml: the artifact has no policy (trained as degaml-gen)")
	}
	r, err := newDGRuntime(env)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(r.adNames, art.Gen.Names) {
		return nil, fmt.Errorf("%s: artifact was trained for another model or LoRA shape", m.name)
	}
	if spec, err := r.embedSpecFor(art.Options); err != nil || spec != art.Gen.Embed || spec.Dim() != art.Gen.H {
		return nil, fmt.Errorf("%s: artifact's prompt features (%+v) do not match this model's tokenizer and width", m.name, art.Gen.Embed)
	}
	// Every split's prompts may be read unlabeled; unlabeled() drops answers.
	var prompts []tasks.Example
	prompts = append(prompts, task.Splits.Train...)
	prompts = append(prompts, task.Splits.Val...)
	prompts = append(prompts, task.Splits.Test...)
	if m.name == meta.DeGAMLGen {
		ts := &taskState{task: task, prompts: kit.Unlabeled(prompts)}
		if ts.emb, err = r.EncodePrompts(ctx, promptSubset(ts.prompts, art.Options.PromptPool, seed), art.Gen.Embed, art.Options.PromptMaxTokens); err != nil {
			return nil, err
		}
		ad, err := art.Gen.Generate(env.Backend, ts.emb, kit.NewRNG(seed, 0x6e))
		if err != nil {
			return nil, err
		}
		env.Publish(events.Event{Kind: events.Log, Method: m.name, Task: task.Name,
			Message: fmt.Sprintf("generated a LoRA in one pass from a batch of %d of the task's %d unlabeled prompts; %s", art.Gen.P, len(ts.prompts), art.Report.Summary())})
		return &meta.Adapted{Adapter: ad}, nil
	}
	ts, err := m.prepareTask(ctx, r, art, task, prompts, seed)
	if err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: m.name, Task: task.Name,
		Message: fmt.Sprintf("generated adapter: val accuracy %.3f; %s", ts.genAcc, art.Report.Summary())})
	probs := art.Policy.Probs(ts.phi)
	k := art.Options.AdaptTopK
	if len(ts.val) == 0 {
		k = 1 // nothing to select on: trust the policy's top choice
	}
	top := art.Policy.TopK(ts.phi, k)
	type cand struct {
		info events.HypothesisInfo
		ad   *meta.Adapted
		acc  float64
	}
	var cands []cand
	for rank, hi := range top {
		h := art.Policy.Hyps[hi]
		info := events.HypothesisInfo{Family: h.Family, Params: cloneParams(h.Params),
			Why: fmt.Sprintf("policy rank %d/%d, p=%.3f (generated-adapter confidence %.2f, entropy %.2f)", rank+1, len(probs), probs[hi], ts.conf, ts.ent)}
		m.publishHyp(env, "", task.Name, rank+1, info)
		ad, err := m.execHypothesis(ctx, r, art, ts, ts.gen, h, seed+int64(rank))
		if err != nil {
			return nil, err
		}
		c := cand{info: info, ad: ad, acc: math.NaN()}
		if len(ts.val) > 0 {
			if c.acc, _, _, err = meta.Evaluate(ctx, env, ad, ts.val); err != nil {
				return nil, err
			}
			rw, _ := rewardOf(c.acc, ts.genAcc)
			c.info.Accuracy, c.info.Baseline, c.info.Reward = events.F(c.acc), events.F(ts.genAcc), events.F(rw)
			m.publishHyp(env, "", task.Name, rank+1, c.info)
		}
		cands = append(cands, c)
	}
	best := 0
	for i, c := range cands {
		if c.acc > cands[best].acc { // ties keep the more probable hypothesis
			best = i
		}
	}
	chosen := cands[best]
	out := chosen.ad
	info := chosen.info
	info.Chosen = true
	switch {
	case len(ts.val) == 0:
		info.Why += "; no validation split: the policy's top hypothesis is used"
	case chosen.acc < ts.genAcc:
		// Every proposal lost to the generated adapter on validation: keep it.
		info = events.HypothesisInfo{Family: "none", Params: map[string]float64{}, Chosen: true,
			Accuracy: events.F(ts.genAcc), Baseline: events.F(ts.genAcc), Reward: events.F(1),
			Why: fmt.Sprintf("all %d proposed hypotheses scored below the generated adapter on validation (best %s %.3f < %.3f): generated adapter kept",
				len(cands), art.Policy.Hyps[top[best]], chosen.acc, ts.genAcc)}
		out = &meta.Adapted{Adapter: ts.gen}
	default:
		info.Why += fmt.Sprintf("; best of the policy's top %d on validation (%.3f vs generated %.3f)", len(cands), chosen.acc, ts.genAcc)
	}
	out.Chosen = &info
	m.publishHyp(env, "", task.Name, 0, info)
	return out, nil
}

// meanOf averages f over the collected tasks, skipping negative values
// (absent measurements).
func meanOf(set *CheckpointSet, f func(*CollectedTask) float64) float64 {
	var s float64
	n := 0
	for _, c := range set.Tasks {
		if v := f(c); v >= 0 {
			s += v
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return s / float64(n)
}
