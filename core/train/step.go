package train

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
)

// AdamState is the optimizer state of one set of trainable tensors: first and second moments under the same
// names, and the number of accepted steps.
type AdamState struct {
	M, V models.Params
	Step int
}

// NewAdamState returns zero moments shaped like p.
func NewAdamState(p models.Params) *AdamState {
	st := &AdamState{M: models.Params{}, V: models.Params{}}
	for n, t := range p {
		dims := t.Shape().Dimensions
		size := t.Shape().Size()
		st.M[n] = tensors.FromFlatDataAndDimensions(make([]float32, size), dims...)
		st.V[n] = tensors.FromFlatDataAndDimensions(make([]float32, size), dims...)
	}
	return st
}

// AsParams flattens the state for checkpoints: "adam.m/<name>", "adam.v/<name>", "adam.step".
func (s *AdamState) AsParams() models.Params {
	out := models.Params{"adam.step": tensors.FromFlatDataAndDimensions([]int64{int64(s.Step)})}
	for n, t := range s.M {
		out["adam.m/"+n] = t
	}
	for n, t := range s.V {
		out["adam.v/"+n] = t
	}
	return out
}

// AdamStateFromParams is the inverse of AsParams.
func AdamStateFromParams(p models.Params) (*AdamState, error) {
	st := &AdamState{M: models.Params{}, V: models.Params{}}
	for n, t := range p {
		switch {
		case n == "adam.step":
			st.Step = int(tensors.MustCopyFlatData[int64](t)[0])
		case len(n) > 7 && n[:7] == "adam.m/":
			st.M[n[7:]] = t
		case len(n) > 7 && n[:7] == "adam.v/":
			st.V[n[7:]] = t
		default:
			return nil, fmt.Errorf("train: unknown optimizer tensor %q", n)
		}
	}
	return st, nil
}

// StepResult is the outcome of one train step.
type StepResult struct {
	Loss, GradNorm float64
	// Finite is false when the loss or a gradient was NaN/Inf; the parameters and state were then left as they
	// were.
	Finite bool
}

// Trains says what a Step trains; everything else is a frozen input.
type Trains int

const (
	TrainBase    Trains = iota // every base weight (full fine-tuning, pretraining)
	TrainAdapter               // a LoRA adapter on the frozen base
	TrainDelta                 // a SLOT δ [H] added to the final hidden state, base and adapter frozen
)

// DeltaName is the trainable tensor of a TrainDelta step.
const DeltaName = "slot.delta"

// Hyper are the per-step hyper-parameters, graph inputs so that changing them never recompiles.
type Hyper struct {
	LR float64
	// WeightDecay is AdamW's decoupled decay (p ← p − lr·wd·p). A full step decays before the Adam update
	// (PyTorch's order); adapter and δ steps decay after it (the order DeGAML's numbers were measured with; the
	// two differ at float32 round-off only).
	WeightDecay float64
}

// Step is THE compiled train step of the workbench: loss = CausalLMLoss(Forward(...)), gradients w.r.t. the
// trainable tensors only, clipped by global norm, one Adam(W) update. Pretraining, the LoRA baselines, DeGAML's
// collection and families (TTT, SFT, SLOT) all run it. One Step serves every batch shape and every adapter rank
// (the Exec caches per shape).
type Step struct {
	Cfg    models.Config
	LoRA   *models.LoRAConfig // nil for TrainBase
	Adam   AdamConfig         // WeightDecay is ignored: the decay is a per-step input (Hyper)
	Trains Trains
	exec   *Exec

	frozenNames, trainNames []string
}

// NewLoRAStep compiles (lazily) a step that trains a LoRA adapter with the base weights frozen: the gradient is
// taken w.r.t. the adapter nodes only, so the base weights are plain inputs with no backward pass into them.
// The LoRA scale comes from lora, so an adapter of another rank with the same scale (a mixed adapter) runs too.
func NewLoRAStep(backend compute.Backend, cfg models.Config, lora models.LoRAConfig, adam AdamConfig) (*Step, error) {
	return newLoRAStep(backend, cfg, lora, adam, TrainAdapter)
}

// NewDeltaStep compiles (lazily) a SLOT step: it trains δ (DeltaName, [H]) added to the final hidden state of
// the base model with a frozen adapter of shape lora.
func NewDeltaStep(backend compute.Backend, cfg models.Config, lora models.LoRAConfig, adam AdamConfig) (*Step, error) {
	return newLoRAStep(backend, cfg, lora, adam, TrainDelta)
}

func newLoRAStep(backend compute.Backend, cfg models.Config, lora models.LoRAConfig, adam AdamConfig, what Trains) (*Step, error) {
	if err := lora.Validate(); err != nil {
		return nil, err
	}
	l := lora
	s := &Step{Cfg: cfg, LoRA: &l, Adam: adam, Trains: what}
	s.frozenNames = sortedNames(models.ParamShapes(cfg))
	adNames := sortedNames(models.AdapterShapes(cfg, lora))
	if what == TrainDelta {
		s.frozenNames = append(s.frozenNames, adNames...)
		s.trainNames = []string{DeltaName}
	} else {
		s.trainNames = adNames
	}
	return s, s.build(backend)
}

// NewFullStep compiles (lazily) a step that trains all base weights.
func NewFullStep(backend compute.Backend, cfg models.Config, adam AdamConfig) (*Step, error) {
	s := &Step{Cfg: cfg, Adam: adam, Trains: TrainBase}
	s.trainNames = sortedNames(models.ParamShapes(cfg))
	return s, s.build(backend)
}

func sortedNames(m map[string][]int) []string {
	p := make(models.Params, len(m))
	for n := range m {
		p[n] = nil
	}
	return p.Names()
}

// Graph inputs: frozen…, trainable…, m…, v…, step, lr, wd, ids, targets, weights.
// Outputs: loss, grad norm, finite, new trainable…, new m…, new v….
func (s *Step) build(backend compute.Backend) error {
	nf, nt := len(s.frozenNames), len(s.trainNames)
	cfg, adam, what := s.Cfg, s.Adam, s.Trains
	var lora models.LoRAConfig
	if s.LoRA != nil {
		lora = *s.LoRA
	}
	nBase := len(models.ParamShapes(cfg))
	fn := func(g *Graph, in []*Node) []*Node {
		frozen := in[:nf]
		train := in[nf : nf+nt]
		m := in[nf+nt : nf+2*nt]
		v := in[nf+2*nt : nf+3*nt]
		rest := in[nf+3*nt:]
		step, lr, wd, b := rest[0], rest[1], rest[2], BindBatch(rest[3:])
		var loss *Node
		switch what {
		case TrainBase: // the head trains too: the plain loss
			loss = LMLoss(cfg, lora, models.Bind(s.trainNames, train), nil, nil, b)
		case TrainAdapter:
			loss = firstOrderLoss(cfg, lora, models.Bind(s.frozenNames, frozen), models.Bind(s.trainNames, train), nil, b)
		case TrainDelta:
			base := models.Bind(s.frozenNames[:nBase], frozen[:nBase])
			loss = firstOrderLoss(cfg, lora, base, models.Bind(s.frozenNames[nBase:], frozen[nBase:]), train[0], b)
		}
		grads := Gradient(loss, train...)
		grads, norm := ClipByGlobalNorm(grads, adam.ClipNorm)
		upd, newM, newV := AdamDirections(adam, lr, step, grads, m, v)
		newP := make([]*Node, nt)
		for i, p := range train {
			decay := Mul(Mul(lr, wd), p)
			if what == TrainBase {
				newP[i] = Sub(Sub(p, decay), upd[i])
			} else {
				newP[i] = Sub(Sub(p, upd[i]), decay)
			}
		}
		out := []*Node{loss, norm, AllFinite(loss, norm)}
		out = append(out, newP...)
		out = append(out, newM...)
		return append(out, newV...)
	}
	e, err := NewExec(backend, fn)
	if err != nil {
		return err
	}
	s.exec = e.SetMaxCache(64)
	return nil
}

// firstOrderLoss is LMLoss for a graph differentiated once with the head frozen (an adapter or δ step): the
// loss is chunked over the vocabulary (models.ChunkedLMLoss: no [B·T,V] tensor at real size) and the blocks
// state their gradients in closed form (FirstOrderOnly).
func firstOrderLoss(cfg models.Config, lora models.LoRAConfig, base, adapter models.Weights, delta *Node, b BatchNodes) *Node {
	l := lora
	hidden := models.Hidden(cfg, base, b.IDs, models.ForwardOptions{LoRA: &l, Adapter: adapter, HiddenDelta: delta, FirstOrderOnly: true})
	return models.ChunkedLMLoss(cfg, base, hidden, b.Targets, b.Weights, models.LossChunkElems)
}

// Run performs one step on batch b. frozen holds the base model (ignored by a full step) and, for a δ step, the
// adapter; trainable (the adapter, δ, or the base weights for a full step) and st are updated in place when the
// step is finite. On a NaN/Inf step nothing changes and Finite is false.
func (s *Step) Run(frozen, trainable models.Params, st *AdamState, b *Batch, h Hyper) (StepResult, error) {
	nt := len(s.trainNames)
	args := make([]any, 0, len(s.frozenNames)+3*nt+6)
	for _, n := range s.frozenNames {
		t, ok := frozen[n]
		if !ok {
			return StepResult{}, fmt.Errorf("train: frozen inputs lack %q", n)
		}
		args = append(args, t)
	}
	for _, set := range []models.Params{trainable, st.M, st.V} {
		for _, n := range s.trainNames {
			t, ok := set[n]
			if !ok {
				return StepResult{}, fmt.Errorf("train: trainable set or optimizer state lacks %q", n)
			}
			args = append(args, t)
		}
	}
	args = append(args, float32(st.Step+1), float32(h.LR), float32(h.WeightDecay), b.IDs, b.Targets, b.Weights)
	out, err := s.exec.Call(args...)
	if err != nil {
		return StepResult{}, err
	}
	res := StepResult{
		Loss:     float64(tensors.MustCopyFlatData[float32](out[0])[0]),
		GradNorm: float64(tensors.MustCopyFlatData[float32](out[1])[0]),
		Finite:   tensors.MustCopyFlatData[bool](out[2])[0],
	}
	if !res.Finite || math.IsNaN(res.Loss) || math.IsInf(res.Loss, 0) {
		res.Finite = false
		for _, t := range out {
			t.FinalizeAll()
		}
		return res, nil
	}
	for i, n := range s.trainNames {
		trainable[n] = out[3+i]
		st.M[n] = out[3+nt+i]
		st.V[n] = out[3+2*nt+i]
	}
	st.Step++
	return res, nil
}

// Names returns the trainable tensor names in Exec order.
func (s *Step) Names() []string { return append([]string{}, s.trainNames...) }
