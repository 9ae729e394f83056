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

// Step is a compiled train step: loss = CausalLMLoss(Forward(...)), clipped gradients w.r.t. the trainable
// tensors only, one Adam(W) update. One Step serves every batch shape (the Exec caches per shape).
type Step struct {
	Cfg  models.Config
	LoRA *models.LoRAConfig // nil: full fine-tuning of the base weights
	Adam AdamConfig
	exec *Exec

	frozenNames, trainNames []string
}

// NewLoRAStep compiles (lazily) a step that trains a LoRA adapter with the base weights frozen: the gradient is
// taken w.r.t. the adapter nodes only, so the base weights are plain inputs with no backward pass into them.
func NewLoRAStep(backend compute.Backend, cfg models.Config, lora models.LoRAConfig, adam AdamConfig) (*Step, error) {
	if err := lora.Validate(); err != nil {
		return nil, err
	}
	l := lora
	s := &Step{Cfg: cfg, LoRA: &l, Adam: adam}
	s.frozenNames = sortedNames(models.ParamShapes(cfg))
	s.trainNames = sortedNames(models.AdapterShapes(cfg, lora))
	return s, s.build(backend)
}

// NewFullStep compiles (lazily) a step that trains all base weights.
func NewFullStep(backend compute.Backend, cfg models.Config, adam AdamConfig) (*Step, error) {
	s := &Step{Cfg: cfg, Adam: adam}
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

// Graph inputs: frozen…, trainable…, m…, v…, step, lr, ids, targets, weights.
// Outputs: loss, grad norm, finite, new trainable…, new m…, new v….
func (s *Step) build(backend compute.Backend) error {
	nf, nt := len(s.frozenNames), len(s.trainNames)
	cfg, lora, adam := s.Cfg, s.LoRA, s.Adam
	fn := func(g *Graph, in []*Node) []*Node {
		frozen := in[:nf]
		train := in[nf : nf+nt]
		m := in[nf+nt : nf+2*nt]
		v := in[nf+2*nt : nf+3*nt]
		rest := in[nf+3*nt:]
		step, lr, ids, targets, weights := rest[0], rest[1], rest[2], rest[3], rest[4]
		var loss *Node
		if lora != nil { // frozen head: the chunked loss never holds the [B,T,V] logits
			w := models.Bind(s.frozenNames, frozen)
			hidden := models.Hidden(cfg, w, ids, models.ForwardOptions{LoRA: lora, Adapter: models.Bind(s.trainNames, train), FirstOrderOnly: true})
			loss = models.ChunkedLMLoss(cfg, w, hidden, targets, weights, models.LossChunkElems)
		} else {
			loss = models.CausalLMLoss(models.Forward(cfg, models.Bind(s.trainNames, train), ids, models.ForwardOptions{}), targets, weights)
		}
		grads := Gradient(loss, train...)
		grads, norm := ClipByGlobalNorm(grads, adam.ClipNorm)
		newP, newM, newV := AdamUpdate(adam, lr, step, train, grads, m, v)
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

// Run performs one step on batch b with learning rate lr. frozen is the base model (ignored by a full step);
// trainable (the adapter, or the base weights for a full step) and st are updated in place when the step is
// finite. On a NaN/Inf step nothing changes and Finite is false.
func (s *Step) Run(frozen, trainable models.Params, st *AdamState, b *Batch, lr float64) (StepResult, error) {
	nt := len(s.trainNames)
	args := make([]any, 0, len(s.frozenNames)+3*nt+5)
	for _, n := range s.frozenNames {
		t, ok := frozen[n]
		if !ok {
			return StepResult{}, fmt.Errorf("train: base model lacks %q", n)
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
	args = append(args, float32(st.Step+1), float32(lr), b.IDs, b.Targets, b.Weights)
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
