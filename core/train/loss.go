package train

import (
	"fmt"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
)

// Loss is a compiled causal-LM loss of the frozen base model with an adapter and a SLOT δ: the held-out figure
// of a training run, and the objective DeGAML's families report. One Loss serves every batch shape and adapter
// rank of its LoRA scale.
type Loss struct {
	cfg                models.Config
	baseNames, adNames []string
	exec               *Exec
}

// NewLoss compiles (lazily) base…, A/B…, δ, ids, targets, weights → loss.
func NewLoss(backend compute.Backend, cfg models.Config, lora models.LoRAConfig) (*Loss, error) {
	if err := lora.Validate(); err != nil {
		return nil, err
	}
	l := &Loss{cfg: cfg, baseNames: sortedNames(models.ParamShapes(cfg)), adNames: sortedNames(models.AdapterShapes(cfg, lora))}
	nb, na := len(l.baseNames), len(l.adNames)
	e, err := NewExec(backend, func(in []*Node) *Node {
		return LMLoss(cfg, lora, models.Bind(l.baseNames, in[:nb]), models.Bind(l.adNames, in[nb:nb+na]), in[nb+na], BindBatch(in[nb+na+1:]))
	})
	if err != nil {
		return nil, err
	}
	l.exec = e
	return l, nil
}

// Of is the mean LM loss of b under adapter and δ (nil: zero, which adds exactly nothing).
func (l *Loss) Of(base models.Params, adapter *models.Adapter, delta []float32, b *Batch) (float64, error) {
	if delta == nil {
		delta = make([]float32, l.cfg.HiddenSize)
	}
	args := make([]any, 0, len(l.baseNames)+len(l.adNames)+4)
	for _, set := range []struct {
		p     models.Params
		names []string
	}{{base, l.baseNames}, {adapter.Params, l.adNames}} {
		for _, n := range set.names {
			t, ok := set.p[n]
			if !ok {
				return 0, fmt.Errorf("train: loss inputs lack %q", n)
			}
			args = append(args, t)
		}
	}
	args = append(args, tensors.FromFlatDataAndDimensions(delta, len(delta)), b.IDs, b.Targets, b.Weights)
	out, err := l.exec.Call(args...)
	if err != nil {
		return 0, err
	}
	return float64(tensors.MustCopyFlatData[float32](out[0])[0]), nil
}
