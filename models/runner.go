package models

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Runner compiles and caches the everyday executables of one model config on one backend: logits, loss, and
// loss + gradients w.r.t. the adapter. Sequence lengths are padded up to a multiple of SeqBucket so that the
// per-shape compile cache (32 shapes per Exec) is reused across batches. It is safe for concurrent use.
type Runner struct {
	Config    Config
	SeqBucket int // pad lengths to a multiple of this (default 16)

	backend compute.Backend
	mu      sync.Mutex
	execs   map[string]*graph.Exec
}

// NewRunner returns a Runner for cfg on backend (e.g. compute.NewWithConfig("go:parallelism=-1")).
func NewRunner(backend compute.Backend, cfg Config) *Runner {
	return &Runner{Config: cfg, SeqBucket: 16, backend: backend, execs: map[string]*graph.Exec{}}
}

// exec returns the cached Exec for kind with these parameter/adapter names, building it on first use. Inputs of
// the graph: ids, targets, weights, base params (names order), adapter params (adapterNames order).
func (r *Runner) exec(kind string, names, adapterNames []string, lora *LoRAConfig) *graph.Exec {
	key := kind + "|" + strings.Join(names, ",") + "|" + strings.Join(adapterNames, ",")
	if lora != nil {
		key += fmt.Sprintf("|%d/%g/%v/%v", lora.Rank, lora.Alpha, lora.RSLoRA, lora.Targets)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.execs[key]; ok {
		return e
	}
	cfg := r.Config
	var loraCopy *LoRAConfig
	if lora != nil {
		l := *lora
		loraCopy = &l
	}
	e, err := graph.NewExec(r.backend, func(in []*graph.Node) []*graph.Node {
		ids, targets, weights := in[0], in[1], in[2]
		w := Bind(names, in[3:3+len(names)])
		aNodes := in[3+len(names):]
		opt := ForwardOptions{LoRA: loraCopy, Adapter: Bind(adapterNames, aNodes), FirstOrderOnly: kind == "grad"}
		hidden := Hidden(cfg, w, ids, opt)
		if kind == "logits" {
			return []*graph.Node{Logits(cfg, w, hidden)}
		}
		if kind == "loss" { // no backward pass: nothing V-wide outlives the loss
			return []*graph.Node{CausalLMLoss(Logits(cfg, w, hidden), targets, weights)}
		}
		loss := ChunkedLMLoss(cfg, w, hidden, targets, weights, LossChunkElems) // the gradient is w.r.t. the adapter only
		return append([]*graph.Node{loss}, graph.Gradient(loss, aNodes...)...)
	})
	if err != nil {
		panic(err) // NewExec only fails on an invalid function signature
	}
	r.execs[key] = e
	return e
}

// batch pads ids to [B, bucketed T] int32 and builds the matching loss targets/weights.
func (r *Runner) batch(ids [][]int32, lossFrom []int) (idsT, targetsT, weightsT *tensors.Tensor, T int, err error) {
	if len(ids) == 0 {
		return nil, nil, nil, 0, fmt.Errorf("models.Runner: empty batch")
	}
	if lossFrom != nil && len(lossFrom) != len(ids) {
		return nil, nil, nil, 0, fmt.Errorf("models.Runner: %d lossFrom values for %d rows", len(lossFrom), len(ids))
	}
	for b, row := range ids {
		if len(row) == 0 {
			return nil, nil, nil, 0, fmt.Errorf("models.Runner: row %d is empty", b)
		}
		for _, id := range row {
			if id < 0 || int(id) >= r.Config.VocabSize {
				return nil, nil, nil, 0, fmt.Errorf("models.Runner: row %d: token id %d outside vocabulary [0,%d)", b, id, r.Config.VocabSize)
			}
		}
		T = max(T, len(row))
	}
	bucket := max(r.SeqBucket, 1)
	padded := (T + bucket - 1) / bucket * bucket
	targets, weights := ShiftTargets(ids, lossFrom)
	B := len(ids)
	flatIDs, flatT, flatW := make([]int32, B*padded), make([]int32, B*padded), make([]float32, B*padded)
	for b := range B {
		copy(flatIDs[b*padded:], ids[b]) // right padding with token 0: causal attention never looks right
		copy(flatT[b*padded:], targets[b])
		copy(flatW[b*padded:], weights[b])
	}
	return tensors.FromFlatDataAndDimensions(flatIDs, B, padded), tensors.FromFlatDataAndDimensions(flatT, B, padded),
		tensors.FromFlatDataAndDimensions(flatW, B, padded), padded, nil
}

func (r *Runner) run(kind string, p Params, a *Adapter, ids [][]int32, lossFrom []int) ([]*tensors.Tensor, []string, int, error) {
	idsT, tT, wT, T, err := r.batch(ids, lossFrom)
	if err != nil {
		return nil, nil, 0, err
	}
	args := []any{idsT, tT, wT}
	for _, t := range p.Tensors() {
		args = append(args, t)
	}
	var lora *LoRAConfig
	var aNames []string
	if a != nil {
		lora = &a.Config
		aNames = a.Params.Names()
		for _, t := range a.Params.Tensors() {
			args = append(args, t)
		}
	}
	out, err := r.exec(kind, p.Names(), aNames, lora).Call(args...)
	return out, aNames, T, err
}

// Logits returns logits[b][t][v] for each row of ids (rows may differ in length; each gets its own length).
// a may be nil for the base model.
func (r *Runner) Logits(p Params, a *Adapter, ids [][]int32) ([][][]float32, error) {
	out, _, T, err := r.run("logits", p, a, ids, nil)
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	V := r.Config.VocabSize
	res := make([][][]float32, len(ids))
	for b, row := range ids {
		res[b] = make([][]float32, len(row))
		for t := range row {
			off := (b*T + t) * V
			res[b][t] = flat[off : off+V : off+V]
		}
	}
	return res, nil
}

// Loss returns the mean next-token cross-entropy over the counted targets (see ShiftTargets for lossFrom).
func (r *Runner) Loss(p Params, a *Adapter, ids [][]int32, lossFrom []int) (float32, error) {
	out, _, _, err := r.run("loss", p, a, ids, lossFrom)
	if err != nil {
		return 0, err
	}
	return tensors.MustCopyFlatData[float32](out[0])[0], nil
}

// LossAndGrad returns the loss and its gradient w.r.t. every adapter tensor (same names as a.Params).
func (r *Runner) LossAndGrad(p Params, a *Adapter, ids [][]int32, lossFrom []int) (float32, Params, error) {
	if a == nil {
		return 0, nil, fmt.Errorf("models.Runner.LossAndGrad: nil adapter")
	}
	out, names, _, err := r.run("grad", p, a, ids, lossFrom)
	if err != nil {
		return 0, nil, err
	}
	grads := make(Params, len(names))
	for i, n := range names {
		grads[n] = out[1+i]
	}
	return tensors.MustCopyFlatData[float32](out[0])[0], grads, nil
}
