package train

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/tasks"
)

// DefaultScoreBatch is the number of prompts scored per forward pass.
const DefaultScoreBatch = 16

// Scorer computes next-token logits after prompts, batched, with an optional adapter and SLOT delta. It
// caches one Exec per adapter layout, so keep one per model. Safe for concurrent use.
type Scorer struct {
	Backend compute.Backend
	Model   *models.Model
	Batch   int // prompts per forward pass (0 = DefaultScoreBatch)

	mu    sync.Mutex
	execs map[string]*Exec
}

// NewScorer returns a scorer for m.
func NewScorer(backend compute.Backend, m *models.Model) *Scorer {
	return &Scorer{Backend: backend, Model: m, execs: map[string]*Exec{}}
}

var (
	scorersMu sync.Mutex
	scorers   = map[*models.Model]*Scorer{}
)

// ScorerFor returns a process-wide scorer for m on backend (so repeated OptionProbs calls reuse compiled
// graphs).
func ScorerFor(backend compute.Backend, m *models.Model) *Scorer {
	scorersMu.Lock()
	defer scorersMu.Unlock()
	s, ok := scorers[m]
	if !ok || s.Backend != backend {
		s = NewScorer(backend, m)
		scorers[m] = s
	}
	return s
}

// OptionProbs scores multiple-choice examples (ARCHITECTURE.md "Text format and scoring"): the next-token
// distribution after Format's prefix, restricted to the option letters' tokens and renormalized. One row per
// example, in input order; each row sums to 1.
func OptionProbs(backend compute.Backend, m *models.Model, adapter *models.Adapter, delta []float32, exs []tasks.Example) ([][]float64, error) {
	return ScorerFor(backend, m).OptionProbs(adapter, delta, exs)
}

// OutputNoise makes scoring stochastic: every forward pass gets Hook's models.ForwardOptions.ProjectHook,
// built from the graph inputs Params (bound by name) and an RNG state seeded by Seed and the batch's position,
// so each batch draws fresh noise and a call is reproducible. Key names the graph Hook builds (with the
// parameter layout it is the compiled graph's cache key). abmll's local-reparameterization predictive uses it.
type OutputNoise struct {
	Key    string
	Params models.Params
	Seed   int64
	Hook   func(p models.Weights, rng *Node) func(module string, x, y *Node) *Node
}

// OptionProbs is the package-level OptionProbs on this scorer.
func (s *Scorer) OptionProbs(adapter *models.Adapter, delta []float32, exs []tasks.Example) ([][]float64, error) {
	return s.OptionProbsNoisy(adapter, delta, nil, exs)
}

// OptionProbsNoisy is OptionProbs with output noise (nil: none).
func (s *Scorer) OptionProbsNoisy(adapter *models.Adapter, delta []float32, noise *OutputNoise, exs []tasks.Example) ([][]float64, error) {
	if s.Model.Tokenizer == nil {
		return nil, fmt.Errorf("train: model has no tokenizer")
	}
	items := make([]MCItem, len(exs))
	// Every prompt to run: each item's prefix, and for multi-token options the prefix extended by each
	// option's tokens but the last (the logits after position j score the option's token j+1).
	var prompts [][]int32
	at := make([]int, len(exs))
	for i, ex := range exs {
		it, err := EncodeMC(s.Model.Tokenizer, ex)
		if err != nil {
			return nil, fmt.Errorf("example %d: %w", i, err)
		}
		items[i] = it
		at[i] = len(prompts)
		prompts = append(prompts, it.Prefix)
		for _, c := range it.Conts {
			for j := 1; j < len(c); j++ {
				prompts = append(prompts, append(append([]int32(nil), it.Prefix...), c[:j]...))
			}
		}
	}
	logits, err := s.nextTokenLogits(adapter, delta, noise, prompts)
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(exs))
	for i, it := range items {
		if it.Conts == nil {
			out[i] = LetterSoftmax(logits[at[i]], it.LetterIDs)
			continue
		}
		// Summed log-likelihood of each option's tokens, then softmax over the options.
		sums := make([]float32, len(it.Conts))
		ids := make([]int, len(it.Conts))
		next := at[i] + 1
		for o, c := range it.Conts {
			var ll float64
			for j, tok := range c {
				row := logits[at[i]]
				if j > 0 {
					row = logits[next]
					next++
				}
				ll += logSoftmaxAt(row, int(tok))
			}
			sums[o], ids[o] = float32(ll), o
		}
		out[i] = LetterSoftmax(sums, ids)
	}
	return out, nil
}

// logSoftmaxAt is log softmax(logits)[id] in float64.
func logSoftmaxAt(logits []float32, id int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	return float64(logits[id]) - mx - math.Log(sum)
}

// LetterSoftmax is softmax over logits[ids] in float64.
func LetterSoftmax(logits []float32, ids []int) []float64 {
	p := make([]float64, len(ids))
	mx := math.Inf(-1)
	for _, id := range ids {
		mx = math.Max(mx, float64(logits[id]))
	}
	var sum float64
	for i, id := range ids {
		p[i] = math.Exp(float64(logits[id]) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// NextTokenLogits returns, for each prompt, the logits [V] predicting the token after it. Prompts are grouped
// by length bucket (32) and run DefaultScoreBatch at a time; prompts longer than the context keep their last
// MaxPositions tokens.
func (s *Scorer) NextTokenLogits(adapter *models.Adapter, delta []float32, prompts [][]int32) ([][]float32, error) {
	return s.nextTokenLogits(adapter, delta, nil, prompts)
}

func (s *Scorer) nextTokenLogits(adapter *models.Adapter, delta []float32, noise *OutputNoise, prompts [][]int32) ([][]float32, error) {
	cfg := s.Model.Config
	bs := s.Batch
	if bs <= 0 {
		bs = DefaultScoreBatch
	}
	e, fixed, err := s.execFor(adapter, delta, noise)
	if err != nil {
		return nil, err
	}
	order := make([]int, len(prompts))
	for i := range order {
		order[i] = i
		if len(prompts[i]) == 0 {
			return nil, fmt.Errorf("train: prompt %d is empty", i)
		}
	}
	// Sorting by length keeps each chunk within one bucket as far as possible (less padding, fewer shapes).
	sort.SliceStable(order, func(a, b int) bool { return len(prompts[order[a]]) < len(prompts[order[b]]) })
	out := make([][]float32, len(prompts))
	for start := 0; start < len(order); start += bs {
		chunk := order[start:min(start+bs, len(order))]
		longest := 0
		for _, i := range chunk {
			longest = max(longest, min(len(prompts[i]), cfg.MaxPositions))
		}
		T := min(BucketLen(longest, DefaultBucket), cfg.MaxPositions)
		// Batch size padded to a power of two: few distinct shapes.
		B := 1
		for B < len(chunk) {
			B *= 2
		}
		ids := make([]int32, B*T)
		last := make([]int32, B)
		for r, i := range chunk {
			p := prompts[i]
			if len(p) > T {
				p = p[len(p)-T:]
			}
			copy(ids[r*T:], p)
			last[r] = int32(len(p) - 1)
		}
		args := append(append([]any{}, fixed...), tensors.FromFlatDataAndDimensions(ids, B, T), tensors.FromFlatDataAndDimensions(last, B))
		if noise != nil {
			rng, err := RNGStateFromSeed(noise.Seed*1_000_003 + int64(start))
			if err != nil {
				return nil, err
			}
			args = append(args, rng)
		}
		res, err := e.Call(args...)
		if err != nil {
			return nil, err
		}
		flat := tensors.MustCopyFlatData[float32](res[0])
		res[0].FinalizeAll()
		V := cfg.VocabSize
		for r, i := range chunk {
			out[i] = flat[r*V : (r+1)*V : (r+1)*V]
		}
	}
	return out, nil
}

func (s *Scorer) execFor(adapter *models.Adapter, delta []float32, noise *OutputNoise) (*Exec, []any, error) {
	cfg := s.Model.Config
	baseNames := s.Model.Params.Names()
	fixed := make([]any, 0, len(baseNames)+8)
	for _, t := range s.Model.Params.Tensors() {
		fixed = append(fixed, t)
	}
	var lora *models.LoRAConfig
	var adNames []string
	key := fmt.Sprintf("delta=%v", delta != nil)
	if adapter != nil {
		c := adapter.Config
		lora = &c
		adNames = adapter.Params.Names()
		for _, t := range adapter.Params.Tensors() {
			fixed = append(fixed, t)
		}
		key += fmt.Sprintf(" lora=%d/%g/%v/%v/%d", c.Rank, c.Alpha, c.RSLoRA, c.Targets, len(adNames))
	}
	if delta != nil {
		if len(delta) != cfg.HiddenSize {
			return nil, nil, fmt.Errorf("train: SLOT delta has %d values, want %d", len(delta), cfg.HiddenSize)
		}
		fixed = append(fixed, tensors.FromFlatDataAndDimensions(append([]float32{}, delta...), cfg.HiddenSize))
	}
	var noiseNames []string
	if noise != nil {
		noiseNames = noise.Params.Names()
		for _, t := range noise.Params.Tensors() {
			fixed = append(fixed, t)
		}
		key += fmt.Sprintf(" noise=%s/%d", noise.Key, len(noiseNames))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.execs[key]; ok {
		return e, fixed, nil
	}
	hasDelta := delta != nil
	e, err := NewExec(s.Backend, func(g *Graph, in []*Node) *Node {
		i := 0
		w := models.Bind(baseNames, in[:len(baseNames)])
		i += len(baseNames)
		opt := models.ForwardOptions{}
		if lora != nil {
			opt.LoRA = lora
			opt.Adapter = models.Bind(adNames, in[i:i+len(adNames)])
			i += len(adNames)
		}
		if hasDelta {
			opt.HiddenDelta = in[i]
			i++
		}
		if noise != nil {
			p := models.Bind(noiseNames, in[i:i+len(noiseNames)])
			i += len(noiseNames)
			opt.ProjectHook = noise.Hook(p, in[i+2]) // after ids and last
		}
		ids, last := in[i], in[i+1]
		T := ids.Shape().Dimensions[1]
		h := models.Hidden(cfg, w, ids, opt)
		// Pick each row's last prompt position with a one-hot contraction, then project only that row.
		sel := OneHot(last, T, dtypes.Float32)
		hl := Einsum("bt,bth->bh", sel, h)
		return Squeeze(models.Logits(cfg, w, InsertAxes(hl, 1)), 1)
	})
	if err != nil {
		return nil, nil, err
	}
	e.SetMaxCache(64)
	s.execs[key] = e
	return e, fixed, nil
}
