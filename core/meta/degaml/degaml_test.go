package degaml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"
	"github.com/degaml/workbench/internal/testref"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
)

// dgBackend is the shared test backend, set by dgInitBackend.
var dgBackend compute.Backend

func dgInitBackend(t *testing.T) {
	t.Helper()
	dgBackend = testref.Backend(t)
}

// dgTestEnv is a tiny random byte-level model (1 layer × 32) with a rank-2
// LoRA on q/v: big enough to exercise every graph, small enough for 2 cores.
func dgTestEnv(t *testing.T) *meta.Env {
	t.Helper()
	dgInitBackend(t)
	cfg := models.Config{Arch: "llama", VocabSize: tokenizer.ByteVocabSize, HiddenSize: 32, NumLayers: 1,
		NumHeads: 2, NumKVHeads: 1, HeadDim: 16, IntermediateSize: 64, MaxPositions: 128, RopeTheta: 10000,
		RMSNormEps: 1e-5, BOSTokenID: tokenizer.ByteBOS, EOSTokenID: tokenizer.ByteEOS}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &meta.Env{
		Backend: dgBackend,
		Model:   &models.Model{Config: cfg, Params: models.NewRandom(cfg, 1), Tokenizer: tokenizer.NewByte()},
		LoRA:    models.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj"}},
		Publish: meta.Discard,
	}
}

// dgToyTask builds a small two-option task whose answer follows a hidden rule.
func dgToyTask(suite string, i int, testFlip bool) *tasks.Task {
	r := rand.New(rand.NewPCG(uint64(i), 3))
	mk := func(n int, flip bool) []tasks.Example {
		out := make([]tasks.Example, n)
		for k := range out {
			a, b := r.IntN(50), r.IntN(50)
			ans := 0
			if (a+b+i)%2 == 1 {
				ans = 1
			}
			if flip {
				ans = 1 - ans
			}
			out[k] = tasks.Example{Prompt: fmt.Sprintf("%s: %d and %d?", suite, a, b), Options: []string{"even", "odd"}, Answer: ans}
		}
		return out
	}
	return &tasks.Task{Name: fmt.Sprintf("%s#%d", suite, i), Suite: suite, Role: tasks.InDomain,
		Splits: tasks.Splits{Train: mk(6, false), Val: mk(4, false), Test: mk(4, testFlip)}}
}

func TestGeneratorOutputShapesMatchAdapterShapes(t *testing.T) {
	env := dgTestEnv(t)
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	want := models.AdapterShapes(env.Model.Config, env.LoRA)
	var shapes [][]int
	for _, n := range r.adNames {
		shapes = append(shapes, want[n])
	}
	spec, err := r.embedSpecFor(meta.DefaultDeGAMLOptions())
	if err != nil {
		t.Fatal(err)
	}
	if spec.Kind != meta.EmbedBOW || spec.Vocab != env.Model.Config.VocabSize || spec.Bigrams != 1024 || spec.PairDist != 2 || spec.Hidden != 0 {
		t.Fatalf("default prompt features: got %+v, want a bag of the %d byte tokens + 1024 pair buckets at distance ≤ 2", spec, env.Model.Config.VocabSize)
	}
	g := newGenerator(env.LoRA, r.adNames, shapes, spec.Dim(), 4, 9, 8, 1)
	g.Embed = spec
	if g.K != 7 {
		t.Errorf("kernel should be capped at 2P-1 = 7, got %d", g.K)
	}
	emb, err := r.EncodePrompts(context.Background(), dgToyTask("s", 0, false).Splits.Train, spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(emb) != 6 || len(emb[0]) != spec.Dim() {
		t.Fatalf("encoder: got %d×%d features, want 6×%d", len(emb), len(emb[0]), spec.Dim())
	}
	// Unigram frequencies sum to 1 over a prompt, pair frequencies to 1 per
	// distance.
	var uni, bi float64
	for j, v := range emb[0] {
		if j < spec.Vocab {
			uni += float64(v)
		} else {
			bi += float64(v)
		}
	}
	if math.Abs(uni-1) > 1e-5 || math.Abs(bi-2) > 1e-5 {
		t.Fatalf("bag-of-tokens frequencies sum to %.6f (unigrams) and %.6f (pairs), want 1 and 2", uni, bi)
	}
	hid, err := r.EncodePrompts(context.Background(), dgToyTask("s", 0, false).Splits.Train[:2], EmbedSpec{Kind: meta.EmbedBOWHidden, Vocab: spec.Vocab, Hidden: 32}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hid[0]) != spec.Vocab+32 || !slices.Equal(hid[0][:spec.Vocab], emb[0][:spec.Vocab]) {
		t.Fatalf("bow+hidden: got width %d (want %d) or a different bag part", len(hid[0]), spec.Vocab+32)
	}
	ad, err := g.Generate(env.Backend, emb, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Validate(env.Model.Config); err != nil {
		t.Fatalf("generated adapter does not match AdapterShapes: %v", err)
	}
	if err := models.CheckShapes(ad.Params, want, "generated"); err != nil {
		t.Fatal(err)
	}
}

// TestGeneratorTrainingReducesHeldOutMSE: tasks have a 2-d latent z that both
// their prompt embeddings and their checkpoints depend on; a trained
// generator must predict the checkpoints of unseen tasks far better than the
// mean-checkpoint predictor it starts from.
func TestGeneratorTrainingReducesHeldOutMSE(t *testing.T) {
	dgInitBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const H, nTasks = 8, 24
	names := []string{"a.lora_A", "a.lora_B"}
	shapes := [][]int{{2, 4}, {4, 2}}
	N := 16
	mixE := make([][2]float64, H)
	mixC := make([][2]float64, N)
	for i := range mixE {
		mixE[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	for i := range mixC {
		mixC[i] = [2]float64{rng.NormFloat64(), rng.NormFloat64()}
	}
	d := genData{}
	for range nTasks {
		z := [2]float64{rng.NormFloat64(), rng.NormFloat64()}
		var emb [][]float32
		for range 6 {
			e := make([]float32, H)
			for h := range e {
				e[h] = float32(mixE[h][0]*z[0] + mixE[h][1]*z[1] + 0.1*rng.NormFloat64())
			}
			emb = append(emb, e)
		}
		var ck [][]float32
		for s := range 5 {
			c := make([]float32, N)
			for j := range c {
				c[j] = float32(0.01 * (mixC[j][0]*z[0] + mixC[j][1]*z[1]) * (1 + 0.1*float64(s)))
			}
			ck = append(ck, c)
		}
		d.Emb = append(d.Emb, emb)
		d.Ckpts = append(d.Ckpts, ck)
	}
	var trainIdx, heldIdx []int
	for i := range nTasks {
		if i%4 == 3 {
			heldIdx = append(heldIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	g := newGenerator(models.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj"}}, names, shapes, H, 4, 3, 16, 1)
	rep, err := trainGenerator(context.Background(), dgBackend, g, d, trainIdx, heldIdx, genTrainOpts{
		Steps: 300, Batch: 16, LR: 3e-3, WD: 1e-4, Noise: 1e-3, StdFloor: 0.1, Seed: 1, publish: meta.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out MSE %.4f → %.4f, train %.4f", rep.HeldOutMSE0, rep.HeldOutMSE, rep.TrainMSE)
	if !(rep.HeldOutMSE < 0.3*rep.HeldOutMSE0) {
		t.Fatalf("held-out MSE did not drop enough: %.4f → %.4f", rep.HeldOutMSE0, rep.HeldOutMSE)
	}
}

func TestTTTReducesUnlabeledLossAndIgnoresLabels(t *testing.T) {
	env := dgTestEnv(t)
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	task := dgToyTask("ttt", 1, false)
	prompts := task.Splits.Train
	a := models.NewAdapter(env.Model.Config, env.LoRA, 3)
	b := r.lmBatchOf(prompts, false, 0)
	before, err := r.LMLoss(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var steps []events.Event
	fc := famCtx{method: meta.DeGAML, task: task.Name, publish: func(e events.Event) { steps = append(steps, e) }}
	ad, err := r.TTT(context.Background(), fc, a, prompts, 8, 6, 1e-2, 0.01, 0, 9)
	if err != nil {
		t.Fatal(err)
	}
	after, err := r.LMLoss(ad, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unlabeled LM loss %.4f → %.4f", before, after)
	if !(after < before) {
		t.Fatalf("TTT did not reduce the unlabeled LM loss: %.4f → %.4f", before, after)
	}
	if len(steps) != 8 || steps[0].Phase != FamTTT || steps[0].SupportLoss == nil {
		t.Fatalf("want 8 ttt Step events with losses, got %d (%+v)", len(steps), steps)
	}
	// Flipping every answer must not change TTT at all: it reads no labels.
	flipped := slices.Clone(prompts)
	for i := range flipped {
		flipped[i].Answer = 1 - flipped[i].Answer
	}
	ad2, err := r.TTT(context.Background(), famCtx{publish: meta.Discard}, a, flipped, 8, 6, 1e-2, 0.01, 0, 9)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range r.adNames {
		if !slices.Equal(ad.Params.Float32s(n), ad2.Params.Float32s(n)) {
			t.Fatalf("TTT result depends on the answers (tensor %s)", n)
		}
	}
}

func TestSLOTZeroDeltaIsIdentityAndStepReducesLoss(t *testing.T) {
	env := dgTestEnv(t)
	r, err := newDGRuntime(env)
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Model.Config
	a := models.NewAdapter(cfg, env.LoRA, 3)
	// Give B non-zero values so the adapter matters too.
	for _, n := range r.adNames {
		if n[len(n)-1] == 'B' {
			v := a.Params.Float32s(n)
			for i := range v {
				v[i] = 0.05 * float32(i%7-3)
			}
			a.Params[n] = tensors.FromFlatDataAndDimensions(v, a.Params[n].Shape().Dimensions...)
		}
	}
	b := r.lmBatchOf(dgToyTask("slot", 2, false).Splits.Train, false, 0)
	nb, na := len(r.baseNames), len(r.adNames)
	logits, err := NewExec(env.Backend, func(in []*Node) []*Node {
		base := models.Bind(r.baseNames, in[:nb])
		l := env.LoRA
		opt := models.ForwardOptions{LoRA: &l, Adapter: models.Bind(r.adNames, in[nb:nb+na])}
		plain := models.Forward(cfg, base, in[nb+na+1], opt)
		opt.HiddenDelta = in[nb+na]
		return []*Node{plain, models.Forward(cfg, base, in[nb+na+1], opt)}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := logits.Call(kit.Anys(r.base, r.adapterTensors(a), []*tensors.Tensor{tensors.FromFlatDataAndDimensions(make([]float32, cfg.HiddenSize), cfg.HiddenSize), b.IDs})...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])) {
		t.Fatal("a zero SLOT δ changed the logits")
	}
	before, err := r.LMLoss(a, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	delta, err := r.SLOT(context.Background(), famCtx{publish: func(e events.Event) {
		if e.Phase == FamSLOT {
			n++
		}
	}}, a, dgToyTask("slot", 2, false).Splits.Train, 1, 1e-1, 0.01, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	after, err := r.LMLoss(a, delta, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SLOT one step: loss %.4f → %.4f", before, after)
	if n != 1 || !(after < before) {
		t.Fatalf("one SLOT step should reduce its loss and emit one event: %.4f → %.4f, %d events", before, after, n)
	}
}

func TestMixEndpointsAreExact(t *testing.T) {
	env := dgTestEnv(t)
	cfg := env.Model.Config
	a := models.NewAdapter(cfg, env.LoRA, 1)
	b := models.NewAdapter(cfg, env.LoRA, 2)
	for _, n := range a.Params.Names() {
		b.Params[n] = tensors.FromFlatDataAndDimensions(func() []float32 {
			v := b.Params.Float32s(n)
			for i := range v {
				v[i] += 0.3 // B of a fresh adapter is 0: make both endpoints differ everywhere
			}
			return v
		}(), b.Params[n].Shape().Dimensions...)
	}
	m0, m1, mh := MixAdapters(a, b, 0), MixAdapters(a, b, 1), MixAdapters(a, b, 0.5)
	for _, n := range a.Params.Names() {
		va, vb := a.Params.Float32s(n), b.Params.Float32s(n)
		if !slices.Equal(m0.Params.Float32s(n), va) || !slices.Equal(m1.Params.Float32s(n), vb) {
			t.Fatalf("λ=0/1 must return the endpoints exactly (%s)", n)
		}
		vh := mh.Params.Float32s(n)
		for i := range vh {
			if math.Abs(float64(vh[i])-(float64(va[i])+float64(vb[i]))/2) > 1e-6 {
				t.Fatalf("λ=0.5 is not the midpoint at %s[%d]", n, i)
			}
		}
	}
}

func TestCombineVotes(t *testing.T) {
	members := [][][]float64{
		{{0.6, 0.4}, {0.2, 0.8}, {0.5, 0.5}},
		{{0.7, 0.3}, {0.45, 0.55}, {0.1, 0.9}},
		{{0.1, 0.9}, {0.99, 0.01}, {0.4, 0.6}},
	}
	maj := meta.CombineVotes(members, meta.VoteMajority)
	want := []int{0, 1, 1}
	for i, p := range maj {
		if meta.ArgMax(p) != want[i] {
			t.Errorf("majority item %d: got %v, want option %d", i, p, want[i])
		}
	}
	if math.Abs(maj[0][0]-2.0/3) > 1e-3 {
		t.Errorf("majority share: got %v, want ≈ 2/3", maj[0][0])
	}
	mc := meta.CombineVotes(members, meta.VoteMaxConf)
	wantMC := []int{1, 0, 1} // item 0: member 2 (0.9); item 1: member 2 (0.99); item 2: member 1 (0.9)
	for i, p := range mc {
		if meta.ArgMax(p) != wantMC[i] {
			t.Errorf("maxconf item %d: got %v, want option %d", i, p, wantMC[i])
		}
	}
	// A 1–1 tie is broken by the summed probabilities.
	tie := meta.CombineVotes([][][]float64{{{0.51, 0.49}}, {{0.1, 0.9}}}, meta.VoteMajority)
	if meta.ArgMax(tie[0]) != 1 {
		t.Errorf("tie break: got %v, want option 1", tie[0])
	}
}

// TestReSTEMConcentratesOnRewardedHypotheses: a synthetic bandit where only
// hypotheses 2 and 5 earn reward 1 on every task.
func TestReSTEMConcentratesOnRewardedHypotheses(t *testing.T) {
	hyps := HypothesisGrid(meta.DeGAMLOptions{TTTSteps: []int{1, 2}, TTTLRs: []float64{1e-3}, TTTBatch: []int{4},
		TTSSizes: []int{2}, MixLambdas: []float64{0.5}, SlotSteps: []int{1, 2}, SlotLRs: []float64{1e-2},
		SFTSteps: []int{3}, SFTLRs: []float64{1e-2}})
	if len(hyps) != 8 || hyps[7].Family != FamSFT {
		t.Fatalf("grid size %d, want 8 (2 ttt, 2 tts, 1 mix, 2 slot, 1 sft last)", len(hyps))
	}
	good := map[int]bool{1: true, 5: true}
	phis := [][]float64{{0.3, 0.8, 1}, {-0.5, 0.6, 1}, {0.1, 0.4, 1}}
	calls := 0
	pol, err := runReSTEM(context.Background(), hyps, phis, restemConfig{Iterations: 3, Hypotheses: 6, MinPerFamily: 1,
		Epochs: 300, LR: 0.5, L2: 1e-3, Seed: 3}, func(_ context.Context, _, _ int, hs []int) ([]float64, error) {
		calls++
		fams := map[string]bool{}
		r := make([]float64, len(hs))
		for i, h := range hs {
			fams[hyps[h].Family] = true
			if good[h] {
				r[i] = 1
			}
		}
		if len(fams) != len(Families) {
			return nil, fmt.Errorf("sampled set %v misses a family", hs)
		}
		return r, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 9 {
		t.Errorf("runner called %d times, want 3 iterations × 3 tasks", calls)
	}
	for _, phi := range phis {
		p := pol.Probs(phi)
		if mass := p[1] + p[5]; mass < 0.8 {
			t.Errorf("policy mass on rewarded hypotheses %.3f < 0.8 (%v)", mass, p)
		}
		top := pol.TopK(phi, 2)
		if !good[top[0]] || !good[top[1]] {
			t.Errorf("top-2 %v are not the rewarded hypotheses", top)
		}
	}
}

// TestDeGAMLRewardsUseValidationNotTest meta-trains DeGAML twice on pools
// that differ only in their test answers and adapts to two tasks that differ
// only in test answers: the policy, the chosen hypothesis and the adapter must
// be identical. It also round-trips the artifact through Save/Load.
func TestDeGAMLRewardsUseValidationNotTest(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-trains a tiny model")
	}
	env := dgTestEnv(t)
	o := meta.DeGAMLOptions{CollectTasks: 3, CollectPreSteps: 3, CollectFineSteps: 2, CollectBatch: 4, CollectWarmup: 1,
		HeldOutEvery: 3, PromptBatch: 4, GenChannels: 8, GenSteps: 20, GenBatch: 4,
		PolicyTasks: 1, PolicyIterations: 1, PolicyHypotheses: 5, PolicyMinPerFamily: 1, PolicyEpochs: 20, AdaptTopK: 2,
		TTTSteps: []int{2}, TTTLRs: []float64{1e-2}, TTTBatch: []int{4}, TTSSizes: []int{2},
		MixLambdas: []float64{0.5}, SlotSteps: []int{2}, SlotLRs: []float64{1e-1}}
	pool := func(flip bool) []*tasks.Task {
		return []*tasks.Task{dgToyTask("s1", 0, flip), dgToyTask("s2", 1, flip), dgToyTask("s1", 2, flip), dgToyTask("s2", 3, flip)}
	}
	var hypEvents int
	env.Publish = func(e events.Event) {
		if e.Kind == events.Hypothesis && e.Hyp != nil && e.Hyp.Reward != nil {
			hypEvents++
		}
	}
	train := func(flip bool) *DeGAMLArtifact {
		m := NewDeGAML(o, true)
		art, err := m.MetaTrain(context.Background(), env, pool(flip))
		if err != nil {
			t.Fatal(err)
		}
		return art.(*DeGAMLArtifact)
	}
	a1, a2 := train(false), train(true)
	if hypEvents == 0 {
		t.Fatal("policy training emitted no rewarded hypothesis events")
	}
	for h := range a1.Policy.W {
		if !slices.Equal(a1.Policy.W[h], a2.Policy.W[h]) {
			t.Fatalf("the policy depends on test answers (row %d)", h)
		}
	}
	dir := t.TempDir()
	if err := a1.Save(dir); err != nil {
		t.Fatal(err)
	}
	m := NewDeGAML(o, true)
	loaded, err := m.LoadArtifact(dir)
	if err != nil {
		t.Fatal(err)
	}
	adapt := func(art meta.Artifact, flip bool) *meta.Adapted {
		ad, err := m.Adapt(context.Background(), env, art, dgToyTask("s3", 9, flip), 4)
		if err != nil {
			t.Fatal(err)
		}
		if ad.Chosen == nil || !ad.Chosen.Chosen || ad.Chosen.Why == "" {
			t.Fatalf("Adapt must fill Chosen with a reason, got %+v", ad.Chosen)
		}
		return ad
	}
	x, y := adapt(a1, false), adapt(loaded, true)
	if x.Chosen.Family != y.Chosen.Family || fmt.Sprint(x.Chosen.Params) != fmt.Sprint(y.Chosen.Params) ||
		*x.Chosen.Accuracy != *y.Chosen.Accuracy {
		t.Fatalf("the chosen hypothesis depends on test answers: %+v vs %+v", x.Chosen, y.Chosen)
	}
	adOf := func(a *meta.Adapted) *models.Adapter {
		if a.Adapter != nil {
			return a.Adapter
		}
		return a.Ensemble[0]
	}
	for _, n := range adOf(x).Params.Names() {
		if !slices.Equal(adOf(x).Params.Float32s(n), adOf(y).Params.Float32s(n)) {
			t.Fatalf("the adapted weights depend on test answers (%s)", n)
		}
	}
	t.Logf("chosen: %s %v — %s", x.Chosen.Family, x.Chosen.Params, x.Chosen.Why)

	// degaml-gen reads the same artifact and generates without any step.
	gen := NewDeGAML(o, false)
	ga, err := gen.Adapt(context.Background(), env, loaded, dgToyTask("s3", 9, false), 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := ga.Adapter.Validate(env.Model.Config); err != nil {
		t.Fatal(err)
	}
}

// TestGeneratorEarlyStoppingFallsBackToMean: when checkpoints are unrelated to
// the prompts, whatever the decoder fits is task noise; early stopping on the
// inner-validation tasks must keep (about) the mean-checkpoint generator
// instead of one that is worse on unseen tasks.
func TestGeneratorEarlyStoppingFallsBackToMean(t *testing.T) {
	dgInitBackend(t)
	rng := rand.New(rand.NewPCG(8, 9))
	const H, N, nTasks = 8, 16, 20
	d := genData{}
	for range nTasks {
		var emb [][]float32
		for range 6 {
			e := make([]float32, H)
			for h := range e {
				e[h] = float32(rng.NormFloat64())
			}
			emb = append(emb, e)
		}
		c := make([]float32, N)
		for j := range c {
			c[j] = float32(rng.NormFloat64())
		}
		d.Emb = append(d.Emb, emb)
		d.Ckpts = append(d.Ckpts, [][]float32{c, c})
	}
	var trainIdx, heldIdx []int
	for i := range nTasks {
		if i%4 == 3 {
			heldIdx = append(heldIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	g := newGenerator(models.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q_proj"}}, []string{"a.lora_A", "a.lora_B"},
		[][]int{{2, 4}, {4, 2}}, H, 4, 3, 16, 1)
	rep, err := trainGenerator(context.Background(), dgBackend, g, d, trainIdx, heldIdx, genTrainOpts{
		Steps: 200, Batch: 16, LR: 1e-2, WD: 1e-4, Noise: 1e-3, StdFloor: 0.1, Seed: 1, publish: meta.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("held-out MSE %.4f → %.4f, kept step %d, train %.4f", rep.HeldOutMSE0, rep.HeldOutMSE, rep.BestStep, rep.TrainMSE)
	if rep.HeldOutMSE > 1.1*rep.HeldOutMSE0 {
		t.Fatalf("early stopping kept an overfitted generator: held-out %.4f → %.4f (step %d)", rep.HeldOutMSE0, rep.HeldOutMSE, rep.BestStep)
	}
}
