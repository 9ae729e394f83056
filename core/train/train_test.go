package train

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
)

var testExamples = []tasks.Example{
	{Prompt: "Riley opened the paper.\nWhat will happen next?", Options: []string{"a blanket", "math"}, Answer: 1},
	{Prompt: "2+2=?", Options: []string{"3", "4", "5", "22"}, Answer: 1, System: "You are a calculator."},
	{Prompt: "The sky is green.", Options: []string{"True", "False"}, Answer: 1},
}

func nanoModel(t testing.TB) *models.Model {
	t.Helper()
	cfg, err := models.PresetConfig("nano")
	if err != nil {
		t.Fatal(err)
	}
	return &models.Model{Config: cfg, Params: models.NewRandom(cfg, 7), Tokenizer: tokenizer.NewByte()}
}

func TestFormat(t *testing.T) {
	p, a := Format(testExamples[1])
	if want := "You are a calculator.\n2+2=?\nA: 3\nB: 4\nC: 5\nD: 22\nAnswer: ["; p != want || a != "B]" {
		t.Errorf("Format = %q, %q", p, a)
	}
	p, a = Format(tasks.Example{Prompt: "q", Answer: -1})
	if p != "q\nAnswer: [" || a != "" {
		t.Errorf("unlabeled Format = %q, %q", p, a)
	}
}

func TestEncodeMCByte(t *testing.T) {
	tok := tokenizer.NewByte()
	it, err := EncodeMC(tok, testExamples[1])
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Format(testExamples[1])
	if string(bytesOf(it.Prefix)) != p {
		t.Errorf("prefix %q", bytesOf(it.Prefix))
	}
	if want := []int{'A', 'B', 'C', 'D'}; !equalInts(it.LetterIDs, want) {
		t.Errorf("letters %v, want %v", it.LetterIDs, want)
	}
	seqs, from := EncodeTrain(tok, testExamples[:1], true)
	p, _ = Format(testExamples[0])
	// Loss on "B]" only: the answer starts right after the prefix.
	if from[0] != len(p) || len(seqs[0]) != len(p)+2 {
		t.Errorf("lossFrom %d, len %d (prefix %d)", from[0], len(seqs[0]), len(p))
	}
}

func TestEncodeMCBPE(t *testing.T) {
	dir := testref.Dir(t)
	tok, err := tokenizer.Load(filepath.Join(dir, "tiny-qwen2"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range testExamples {
		it, err := EncodeMC(tok, ex)
		if err != nil {
			t.Fatal(err)
		}
		prefix, _ := Format(ex)
		// Prefix tokens + letter token must decode to the formatted text with that letter.
		for i, id := range it.LetterIDs {
			ids := append(intsOf(it.Prefix), id)
			if got := tok.Decode(ids); got != prefix+tasks.Letter(i) {
				t.Errorf("decode(prefix+letter %d) = %q, want %q", i, got, prefix+tasks.Letter(i))
			}
		}
	}
}

func TestMakeBatch(t *testing.T) {
	b, err := MakeBatch([][]int32{{1, 2, 3}, {4, 5}}, []int{2, 0}, 4, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b.B != 2 || b.T != 4 || b.Tokens != 5 {
		t.Fatalf("B=%d T=%d tokens=%d", b.B, b.T, b.Tokens)
	}
	ids := tensors.MustCopyFlatData[int32](b.IDs)
	tg := tensors.MustCopyFlatData[int32](b.Targets)
	w := tensors.MustCopyFlatData[float32](b.Weights)
	if !equalInts(intsOf(ids), []int{1, 2, 3, 0, 4, 5, 0, 0}) || !equalInts(intsOf(tg), []int{2, 3, 0, 0, 5, 0, 0, 0}) {
		t.Errorf("ids %v targets %v", ids, tg)
	}
	// Row 0 counts targets from token 2 on (t=1); row 1 counts its only target; padding never counts.
	if want := []float32{0, 1, 0, 0, 1, 0, 0, 0}; !equalF32(w, want) {
		t.Errorf("weights %v, want %v", w, want)
	}
	if _, err := MakeBatch([][]int32{make([]int32, 10)}, nil, 4, 8); err == nil {
		t.Error("over-long sequence accepted")
	}
}

func TestOptionProbsMatchManualSoftmax(t *testing.T) {
	m := nanoModel(t)
	backend := testBackend(t)
	probs, err := OptionProbs(backend, m, nil, nil, testExamples)
	if err != nil {
		t.Fatal(err)
	}
	for i, ex := range testExamples {
		var sum float64
		for _, p := range probs[i] {
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 || len(probs[i]) != len(ex.Options) {
			t.Errorf("example %d: probs %v sum %v", i, probs[i], sum)
		}
		// Independent path: full logits of the prefix, softmax over the letter bytes by hand.
		prefix, _ := Format(ex)
		ids := make([]int32, len(prefix))
		for j := range prefix {
			ids[j] = int32(prefix[j])
		}
		lg := [][][]float32{fullLogits(t, backend, m, ids)}
		last := lg[0][len(ids)-1]
		var z float64
		want := make([]float64, len(ex.Options))
		for j := range want {
			want[j] = math.Exp(float64(last['A'+j]))
			z += want[j]
		}
		for j := range want {
			if math.Abs(want[j]/z-probs[i][j]) > 1e-5 {
				t.Errorf("example %d option %d: %v, manual %v", i, j, probs[i][j], want[j]/z)
			}
		}
	}
}

func loraFixture(t testing.TB) (*models.Model, models.LoRAConfig, *models.Adapter, *Batch) {
	m := nanoModel(t)
	lc := models.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "v_proj", "o_proj", "up_proj", "down_proj"}}
	ad := models.NewAdapter(m.Config, lc, 1)
	seqs, from := EncodeTrain(m.Tokenizer, testExamples, false)
	b, err := MakeBatch(seqs, from, DefaultBucket, m.Config.MaxPositions)
	if err != nil {
		t.Fatal(err)
	}
	return m, lc, ad, b
}

func TestLoRATrainingReducesLoss(t *testing.T) {
	m, lc, ad, b := loraFixture(t)
	step, err := NewLoRAStep(testBackend(t), m.Config, lc, DefaultAdam())
	if err != nil {
		t.Fatal(err)
	}
	before := m.Params.Clone()
	st := NewAdamState(ad.Params)
	var steps []events.Event
	res, err := Loop(context.Background(), step, m.Params, ad.Params, st, LoopConfig{
		Steps: 30, LR: 1e-2, Phase: "test", Batch: func(int) (*Batch, error) { return b, nil },
		Publish: func(e events.Event) { steps = append(steps, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
	// A random byte model starts near ln(259) ≈ 5.56 and must fit a fixed batch noticeably.
	if math.Abs(first-math.Log(259)) > 0.3 || last > first-1 {
		t.Errorf("loss %.3f → %.3f", first, last)
	}
	if len(steps) != 30 || steps[29].Kind != events.Step || steps[29].TokensPerS <= 0 || *steps[0].SupportLoss != first {
		t.Errorf("step events: %d, last %+v", len(steps), steps[len(steps)-1])
	}
	// The base stayed frozen.
	for _, n := range before.Names() {
		if !equalF32(before.Float32s(n), m.Params.Float32s(n)) {
			t.Fatalf("base weight %s changed", n)
		}
	}
	if st.Step != 30 {
		t.Errorf("adam step %d", st.Step)
	}
}

func TestFullStepReducesLoss(t *testing.T) {
	m, _, _, b := loraFixture(t)
	step, err := NewFullStep(testBackend(t), m.Config, DefaultAdam())
	if err != nil {
		t.Fatal(err)
	}
	p := m.Params.Clone()
	res, err := Loop(context.Background(), step, nil, p, NewAdamState(p), LoopConfig{
		Steps: 10, LR: 3e-3, Batch: func(int) (*Batch, error) { return b, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Losses[9] > res.Losses[0]-0.5 {
		t.Errorf("full fine-tuning loss %.3f → %.3f", res.Losses[0], res.Losses[9])
	}
}

func TestLoopRejectsNonFinite(t *testing.T) {
	m, lc, ad, b := loraFixture(t)
	// A NaN in the frozen base makes every loss NaN.
	bad := m.Params.Clone()
	w := bad.Float32s("model.norm.weight")
	w[0] = float32(math.NaN())
	bad["model.norm.weight"] = tensors.FromFlatDataAndDimensions(w, len(w))
	step, err := NewLoRAStep(testBackend(t), m.Config, lc, DefaultAdam())
	if err != nil {
		t.Fatal(err)
	}
	st := NewAdamState(ad.Params)
	a0 := ad.Params.Clone()
	var warns []events.Event
	res, err := Loop(context.Background(), step, bad, ad.Params, st, LoopConfig{
		Steps: 5, LR: 1e-2, MaxRejects: 3, Batch: func(int) (*Batch, error) { return b, nil },
		Publish: func(e events.Event) { warns = append(warns, e) },
	})
	if err == nil || res.Rejected != 3 || math.Abs(res.LR-1e-2/8) > 1e-12 {
		t.Errorf("err %v rejected %d lr %v", err, res.Rejected, res.LR)
	}
	if len(warns) != 3 || warns[0].Kind != events.Warning || !strings.Contains(warns[0].Message, "lr halved") {
		t.Errorf("warnings %+v", warns)
	}
	for _, n := range a0.Names() {
		if !equalF32(a0.Float32s(n), ad.Params.Float32s(n)) {
			t.Fatalf("rejected step changed %s", n)
		}
	}
	if st.Step != 0 {
		t.Errorf("rejected steps advanced adam to %d", st.Step)
	}
	// Cancellation is honoured before the first step.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Loop(ctx, step, m.Params, ad.Params, st, LoopConfig{Steps: 5, LR: 1e-2,
		Batch: func(int) (*Batch, error) { return b, nil }}); err != context.Canceled {
		t.Errorf("cancelled loop: %v", err)
	}
}

func bytesOf(ids []int32) []byte {
	out := make([]byte, len(ids))
	for i, v := range ids {
		out[i] = byte(v)
	}
	return out
}

func intsOf(ids []int32) []int {
	out := make([]int, len(ids))
	for i, v := range ids {
		out[i] = int(v)
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// TestLoopHooksAndSchedule: OnStep sees every accepted step with the adapter already updated, OnEval runs on
// every EvalEvery-th step and the last one (before the event is published), OnEnd once; the schedule sets each
// step's learning rate.
func TestLoopHooksAndSchedule(t *testing.T) {
	m, lc, ad, b := loraFixture(t)
	step, err := NewLoRAStep(testBackend(t), m.Config, lc, DefaultAdam())
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	var published []events.Event
	prev := ad.Params.Clone()
	_, err = Loop(context.Background(), step, m.Params, ad.Params, NewAdamState(ad.Params), LoopConfig{
		Steps: 5, Method: "m", Task: "t", Phase: "p", EvalEvery: 2,
		Schedule: func(i int) float64 { return 1e-3 * float64(i+1) },
		Batch:    func(int) (*Batch, error) { return b, nil },
		OnStep: func(i int, r StepResult, ev *events.Event) error {
			order = append(order, fmt.Sprintf("step%d", i))
			moved := false
			for _, n := range prev.Names() {
				moved = moved || !equalF32(prev.Float32s(n), ad.Params.Float32s(n))
			}
			if !moved {
				t.Errorf("step %d: OnStep ran before the update", i)
			}
			prev = ad.Params.Clone()
			ev.Stage = "custom"
			return nil
		},
		OnEval: func(i int, ev *events.Event) error {
			order = append(order, fmt.Sprintf("eval%d", i))
			ev.Accuracy = events.F(0.5)
			return nil
		},
		OnEnd:   func(LoopResult) error { order = append(order, "end"); return nil },
		Publish: func(e events.Event) { published = append(published, e) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "step0 step1 eval1 step2 step3 eval3 step4 eval4 end"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("hooks ran %q, want %q", got, want)
	}
	for i, e := range published {
		if e.Stage != "custom" || e.Method != "m" || e.Task != "t" || math.Abs(*e.LR-1e-3*float64(i+1)) > 1e-15 ||
			(e.Accuracy != nil) != (i == 1 || i == 3 || i == 4) {
			t.Errorf("event %d: %+v", i, e)
		}
	}
}

// TestDeltaStepAndDecay: a δ step trains δ only (the adapter is a frozen input) and lowers the loss; the
// decoupled weight decay of an adapter step is exactly p ← (Adam update) − lr·wd·p, so a second run with the
// same batch and wd moves the params by −lr·wd·p more than the wd-0 run.
func TestDeltaStepAndDecay(t *testing.T) {
	m, lc, ad, b := loraFixture(t)
	be := testBackend(t)
	ds, err := NewDeltaStep(be, m.Config, lc, DefaultAdam())
	if err != nil {
		t.Fatal(err)
	}
	frozen := m.Params.Clone()
	for n, v := range ad.Params {
		frozen[n] = v
	}
	H := m.Config.HiddenSize
	delta := models.Params{DeltaName: tensors.FromFlatDataAndDimensions(make([]float32, H), H)}
	res, err := Loop(context.Background(), ds, frozen, delta, NewAdamState(delta), LoopConfig{Steps: 10, LR: 1e-1,
		Batch: func(int) (*Batch, error) { return b, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Losses[9] >= res.Losses[0] {
		t.Errorf("δ loss %.4f → %.4f", res.Losses[0], res.Losses[9])
	}
	// The loss of the zero δ is the adapter's loss.
	loss, err := NewLoss(be, m.Config, lc)
	if err != nil {
		t.Fatal(err)
	}
	l0, err := loss.Of(m.Params, ad, nil, b)
	if err != nil {
		t.Fatal(err)
	}
	if l0 != res.Losses[0] {
		t.Errorf("zero-δ loss %v, first δ-step loss %v", l0, res.Losses[0])
	}

	step, err := NewLoRAStep(be, m.Config, lc, DefaultAdam())
	if err != nil {
		t.Fatal(err)
	}
	run := func(wd float64) models.Params {
		p := ad.Params.Clone()
		if _, err := step.Run(m.Params, p, NewAdamState(p), b, Hyper{LR: 1e-2, WeightDecay: wd}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain, decayed := run(0), run(0.5)
	for _, n := range plain.Names() {
		p0, a, d := ad.Params.Float32s(n), plain.Float32s(n), decayed.Float32s(n)
		for i := range p0 {
			if want := a[i] - float32(1e-2*0.5)*p0[i]; math.Abs(float64(d[i]-want)) > 1e-7*(1+math.Abs(float64(want))) {
				t.Fatalf("%s[%d]: decayed %v, want %v", n, i, d[i], want)
			}
		}
	}
}

// fullLogits is the plain forward pass of one unpadded sequence: the logits at every position, a path
// independent of the scorer's.
func fullLogits(t *testing.T, backend compute.Backend, m *models.Model, ids []int32) [][]float32 {
	t.Helper()
	names := m.Params.Names()
	e, err := graph.NewExec(backend, func(in []*graph.Node) *graph.Node {
		return models.Forward(m.Config, models.Bind(names, in[1:]), in[0], models.ForwardOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	args := []any{tensors.FromFlatDataAndDimensions(ids, 1, len(ids))}
	for _, p := range m.Params.Tensors() {
		args = append(args, p)
	}
	out, err := e.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	flat, V := tensors.MustCopyFlatData[float32](out[0]), m.Config.VocabSize
	rows := make([][]float32, len(ids))
	for i := range rows {
		rows[i] = flat[i*V : (i+1)*V]
	}
	return rows
}

// TestDivergencePolicy: each reject halves the learning-rate factor, an accepted step resets the count of
// rejects in a row (not the factor), and MaxRejects in a row abort.
func TestDivergencePolicy(t *testing.T) {
	d := Divergence{MaxRejects: 3}
	if d.Scale() != 1 {
		t.Fatalf("fresh scale %v", d.Scale())
	}
	for range 2 {
		if err := d.Reject(); err != nil {
			t.Fatal(err)
		}
	}
	d.Accept()
	for i := range 2 {
		if err := d.Reject(); err != nil {
			t.Fatalf("reject %d after an accepted step aborted: %v", i, err)
		}
	}
	if err := d.Reject(); err == nil {
		t.Error("3 rejects in a row did not abort")
	}
	if d.Scale() != 1.0/32 || d.Rejected() != 5 {
		t.Errorf("scale %v after 5 rejects (want 1/32), rejected %d", d.Scale(), d.Rejected())
	}
}
