package maml

// maml-en-llm (Sinha et al., KDD 2024): bi-level MAML over the LoRA tensors.
//
// Inner loop (per task, k steps on the task's support batch, answer-only loss):
//
//	"sgd":         θ_j = θ_{j-1} − α·g_j
//	"adam-shared": m_j = β1·m_{j-1} + (1−β1)·g_j,  v_j = β2·v_{j-1} + (1−β2)·g_j²
//	               θ_j = θ_{j-1} − α·m̂_j / √(v̂_j + ε²)    (m̂, v̂ bias-corrected at step t+j)
//
// where (m_0, v_0, t) are the moments of the OUTER Adam optimizer. Our reading
// of the paper's "sharing optimizer moments between inner and outer updates":
// one set of Adam moments serves both loops, so the inner update is the
// Adam-normalised step with the accumulated statistics of meta-training (it is
// not a fresh optimizer per task, whose first steps are ±α sign steps), and the
// statistics the inner steps gather flow back into the outer optimizer. We
// make the flow-back explicit: after a meta-step the shared moments are the
// task-average of the inner loops' final moments (treated as constants), and
// the outer Adam update with the meta-gradient is applied on top of them; the
// step counter advances by k+1. The paper gives no formula for this, so the
// averaging is our choice. ε sits inside the square root so that the
// second-order gradient stays finite where v = 0 (with PEFT init B = 0 the
// gradient of every A is exactly 0 at the first step).
//
// Outer: meta-gradient = ∇_θ mean_i L_query_i(θ_k^i), second order through
// the k inner steps (graph.Gradient of a graph that contains them); with
// FirstOrder the inner gradients are StopGradient'ed (FOMAML: the meta-gradient
// is the query gradient at the adapted point). Everything is one graph per
// meta-step; θ, moments and batches are Exec inputs (functional style).
//
// Adapt (test time) runs the same inner update from the meta-learned θ with
// the meta-learned moments on the task's support set, one Exec call and one
// events.Step per inner step.
//
// Cost with the defaults on nano (rank 4, all seven targets, 4 tasks × 4+4
// examples, 2 inner steps, second order), measured on the 2-core dev box at
// load average ≈17: ≈10 s per meta-step (first one ≈17 s with compilation),
// so 40 meta-steps ≈ 7 min; Adapt ≈2.3 s per inner step including the val
// loss and accuracy. An unloaded box should be several times faster.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/degaml/workbench/tasks"
)

// InnerConfig is maml-en-llm's inner loop.
type InnerConfig struct {
	Steps      int
	LR         float64
	Opt        string // "sgd" | "adam-shared"
	FirstOrder bool
	Adam       train.AdamConfig // β1, β2, ε of the shared moments; ClipNorm clips the meta-gradient
}

// MAMLGraph builds maml-en-llm's graphs. Names is the order of the adapter
// tensors (θ, m and v) in every input and output list.
type MAMLGraph struct {
	Model models.Config
	LoRA  models.LoRAConfig
	Names []string
	Inner InnerConfig
	// Loss overrides the task loss (nil: the causal-LM loss of the base model
	// with the adapter); tests use it to run the same loops on toy losses.
	Loss func(base models.Weights, params []*Node, b train.BatchNodes) *Node
}

// Moments is the shared Adam state as graph nodes (M, V in Names order; Step
// is the scalar count of Adam updates so far). Unused by "sgd" inner loops.
type Moments struct {
	M, V []*Node
	Step *Node
}

func (mg MAMLGraph) shared() bool { return mg.Inner.Opt != "sgd" }

// loss is the loss of the adapter params (in Names order) on a batch.
func (mg MAMLGraph) loss(base models.Weights, params []*Node, b train.BatchNodes) *Node {
	if mg.Loss != nil {
		return mg.Loss(base, params, b)
	}
	return train.LMLoss(mg.Model, mg.LoRA, base, models.Bind(mg.Names, params), nil, b)
}

// innerUpdate is one inner step with step size lr (scalar node) at global
// Adam step `step` (scalar node, unused by "sgd").
func (mg MAMLGraph) innerUpdate(params, grads []*Node, mom Moments, step, lr *Node) ([]*Node, Moments) {
	out := make([]*Node, len(params))
	if !mg.shared() {
		for i, p := range params {
			out[i] = Sub(p, Mul(grads[i], lr))
		}
		return out, mom
	}
	cfg := mg.Inner.Adam
	g := params[0].Graph()
	dt := params[0].DType()
	bc1 := OneMinus(Pow(Scalar(g, dt, cfg.Beta1), step))
	bc2 := OneMinus(Pow(Scalar(g, dt, cfg.Beta2), step))
	nm := Moments{M: make([]*Node, len(params)), V: make([]*Node, len(params)), Step: mom.Step}
	for i, p := range params {
		gr := grads[i]
		m := Add(MulScalar(mom.M[i], cfg.Beta1), MulScalar(gr, 1-cfg.Beta1))
		v := Add(MulScalar(mom.V[i], cfg.Beta2), MulScalar(Square(gr), 1-cfg.Beta2))
		denom := Sqrt(AddScalar(Div(v, bc2), cfg.Eps*cfg.Eps))
		out[i] = Sub(p, Mul(Div(Div(m, bc1), denom), lr))
		nm.M[i], nm.V[i] = m, v
	}
	return out, nm
}

// InnerLoop runs the k-step inner loop from theta on the support batch. It returns
// the adapted params, the support loss before each step and the moments after
// the loop. The result stays differentiable w.r.t. theta (second order)
// unless Inner.FirstOrder.
func (mg MAMLGraph) InnerLoop(base models.Weights, theta []*Node, mom Moments, support train.BatchNodes) (adapted, supportLosses []*Node, out Moments) {
	p := theta
	out = mom
	lr := Scalar(theta[0].Graph(), theta[0].DType(), mg.Inner.LR)
	for j := 1; j <= mg.Inner.Steps; j++ {
		l := mg.loss(base, p, support)
		grads := Gradient(l, p...)
		if mg.Inner.FirstOrder {
			for i := range grads {
				grads[i] = StopGradient(grads[i])
			}
		}
		var step *Node
		if mg.shared() {
			step = AddScalar(mom.Step, float64(j))
		}
		p, out = mg.innerUpdate(p, grads, out, step, lr)
		supportLosses = append(supportLosses, l)
	}
	return p, supportLosses, out
}

// TaskBatches are one task's support and query batches.
type TaskBatches struct{ Support, Query train.BatchNodes }

// MetaGradient returns ∇_θ of the task-mean query loss after the inner loop,
// the mean query loss after adaptation, the mean support loss before it, and
// each task's moments after its inner loop.
func (mg MAMLGraph) MetaGradient(base models.Weights, theta []*Node, mom Moments, batches []TaskBatches) (grads []*Node, queryLoss, supportLoss *Node, moms []Moments) {
	for _, tb := range batches {
		adapted, sl, m := mg.InnerLoop(base, theta, mom, tb.Support)
		q := mg.loss(base, adapted, tb.Query)
		if queryLoss == nil {
			queryLoss, supportLoss = q, sl[0]
		} else {
			queryLoss, supportLoss = Add(queryLoss, q), Add(supportLoss, sl[0])
		}
		moms = append(moms, m)
	}
	n := float64(len(batches))
	queryLoss, supportLoss = DivScalar(queryLoss, n), DivScalar(supportLoss, n)
	grads = Gradient(queryLoss, theta...)
	return grads, queryLoss, supportLoss, moms
}

// MetaStep is one full meta-update: MetaGradient, global-norm clipping, then
// the outer Adam update on the shared moments (see the file comment). lr is a
// scalar node. It returns the new θ, M, V in Names order, the new step count,
// the losses, the pre-clip gradient norm and an all-finite flag.
func (mg MAMLGraph) MetaStep(base models.Weights, theta []*Node, mom Moments, lr *Node, batches []TaskBatches) (newTheta []*Node, newMom Moments, queryLoss, supportLoss, gradNorm, ok *Node) {
	grads, q, s, moms := mg.MetaGradient(base, theta, mom, batches)
	grads, norm := train.ClipByGlobalNorm(grads, mg.Inner.Adam.ClipNorm)
	m, v, step := mom.M, mom.V, AddScalar(mom.Step, 1)
	if mg.shared() {
		// Fold the inner loops' moment statistics into the shared state.
		m, v = make([]*Node, len(theta)), make([]*Node, len(theta))
		for i := range theta {
			for _, tm := range moms {
				if m[i] == nil {
					m[i], v[i] = tm.M[i], tm.V[i]
				} else {
					m[i], v[i] = Add(m[i], tm.M[i]), Add(v[i], tm.V[i])
				}
			}
			m[i] = StopGradient(DivScalar(m[i], float64(len(moms))))
			v[i] = StopGradient(DivScalar(v[i], float64(len(moms))))
		}
		step = AddScalar(mom.Step, float64(mg.Inner.Steps+1))
	}
	cfg := mg.Inner.Adam
	cfg.WeightDecay = 0
	nt, nm, nv := train.AdamUpdate(cfg, lr, step, theta, grads, m, v)
	okNode := train.AllFinite(append([]*Node{q, norm}, nt...)...)
	return nt, Moments{M: nm, V: nv, Step: step}, q, s, norm, okNode
}

// ---- execs ----

// mamlExecs holds the compiled executables of one method run.
type mamlExecs struct {
	mg        MAMLGraph
	baseNames []string
	meta      *Exec // meta-step with a fixed number of tasks
	adapt     *Exec // one test-time inner step
}

func newMAMLExecs(backend compute.Backend, mg MAMLGraph, baseNames []string, nTasks int) (*mamlExecs, error) {
	e := &mamlExecs{mg: mg, baseNames: baseNames}
	nb, na := len(baseNames), len(mg.Names)
	split := func(in []*Node) (models.Weights, []*Node, Moments, *Node, []*Node) {
		base := models.Bind(baseNames, in[:nb])
		theta := in[nb : nb+na]
		mom := Moments{M: in[nb+na : nb+2*na], V: in[nb+2*na : nb+3*na], Step: in[nb+3*na]}
		return base, theta, mom, in[nb+3*na+1], in[nb+3*na+2:]
	}
	var err error
	if nTasks > 0 {
		e.meta, err = NewExec(backend, func(in []*Node) []*Node {
			base, theta, mom, lr, rest := split(in)
			batches := make([]TaskBatches, nTasks)
			for i := range batches {
				batches[i] = TaskBatches{Support: train.BindBatch(rest[6*i:]), Query: train.BindBatch(rest[6*i+3:])}
			}
			nt, nm, q, s, norm, ok := mg.MetaStep(base, theta, mom, lr, batches)
			out := append(append(append(nt, nm.M...), nm.V...), q, s, norm, ok)
			return out
		})
		if err != nil {
			return nil, err
		}
	}
	e.adapt, err = NewExec(backend, func(in []*Node) []*Node {
		base, theta, mom, lr, rest := split(in)
		support, query := train.BindBatch(rest), train.BindBatch(rest[3:])
		l := mg.loss(base, theta, support)
		grads := Gradient(l, theta...)
		var step *Node
		if mg.shared() {
			step = AddScalar(mom.Step, 1)
		}
		// lr is an input here so the knob needs no recompilation.
		nt, nm := mg.innerUpdate(theta, grads, mom, step, lr)
		q := mg.loss(base, nt, query)
		ok := train.AllFinite(append([]*Node{l, q}, nt...)...)
		return append(append(append(nt, nm.M...), nm.V...), l, q, ok)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ---- the method ----

type mamlMethod struct{ opts meta.MAMLOptions }

func (*mamlMethod) Name() string { return meta.MAMLEnLLM }

func (m *mamlMethod) graph(env *meta.Env, names []string, steps int) MAMLGraph {
	adam := train.DefaultAdam()
	adam.ClipNorm = m.opts.ClipNorm
	return MAMLGraph{Model: env.Model.Config, LoRA: env.LoRA, Names: names,
		Inner: InnerConfig{Steps: steps, LR: m.opts.InnerLR, Opt: m.opts.InnerOpt, FirstOrder: m.opts.FirstOrder, Adam: adam}}
}

// mamlArtifact is the meta-learned init and the shared Adam moments.
type mamlArtifact struct {
	Adapter *models.Adapter
	M, V    models.Params
	Step    float64
	Opt     string
}

const mamlFile = "maml.safetensors"

// Save writes θ, M and V into one safetensors file (the LoRA config and the
// step count go in the metadata).
func (a *mamlArtifact) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ts := map[string]safetensors.Tensor{}
	for prefix, p := range map[string]models.Params{"theta/": a.Adapter.Params, "m/": a.M, "v/": a.V} {
		for n, t := range p {
			ts[prefix+n] = safetensors.Tensor{DType: "F32", Shape: t.Shape().Dimensions, F32: tensors.MustCopyFlatData[float32](t)}
		}
	}
	cfg, err := json.Marshal(a.Adapter.Config)
	if err != nil {
		return err
	}
	return safetensors.Write(filepath.Join(dir, mamlFile), ts, map[string]string{
		"method": meta.MAMLEnLLM, "lora": string(cfg), "step": strconv.FormatFloat(a.Step, 'g', -1, 64), "inner_opt": a.Opt})
}

func (*mamlMethod) LoadArtifact(dir string) (meta.Artifact, error) {
	ts, meta, err := safetensors.ReadFile(filepath.Join(dir, mamlFile))
	if err != nil {
		return nil, err
	}
	a := &mamlArtifact{Adapter: &models.Adapter{Params: models.Params{}}, M: models.Params{}, V: models.Params{}, Opt: meta["inner_opt"]}
	if err := json.Unmarshal([]byte(meta["lora"]), &a.Adapter.Config); err != nil {
		return nil, fmt.Errorf("meta: %s: lora config: %w", dir, err)
	}
	if a.Step, err = strconv.ParseFloat(meta["step"], 64); err != nil {
		return nil, fmt.Errorf("meta: %s: step: %w", dir, err)
	}
	for n, t := range ts {
		for prefix, p := range map[string]models.Params{"theta/": a.Adapter.Params, "m/": a.M, "v/": a.V} {
			if len(n) > len(prefix) && n[:len(prefix)] == prefix {
				p[n[len(prefix):]] = tensors.FromFlatDataAndDimensions(t.F32, t.Shape...)
			}
		}
	}
	return a, nil
}

func (m *mamlMethod) MetaTrain(ctx context.Context, env *meta.Env, pool []*tasks.Task) (meta.Artifact, error) {
	pool, init, err := kit.MetaTrainStart(env, pool, meta.MAMLEnLLM)
	if err != nil {
		return nil, err
	}
	names := init.Params.Names()
	mg := m.graph(env, names, m.opts.InnerSteps)
	baseNames := env.Model.Params.Names()
	nt := min(m.opts.TasksPerStep, len(pool))
	ex, err := newMAMLExecs(env.Backend, mg, baseNames, nt)
	if err != nil {
		return nil, err
	}
	theta := init.Params.Tensors()
	mom, vel := kit.ZerosLike(theta), kit.ZerosLike(theta)
	step := float32(0)
	lr := m.opts.OuterLR
	var div train.Divergence
	rng := kit.NewRNG(7, 0x6d616d6c)
	baseT := env.Model.Params.Tensors()
	for it := 1; it <= m.opts.MetaSteps; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		sb, qb, T := kit.MetaBatch(env, rng, pool, nt, m.opts.Support, m.opts.Query)
		args := make([]any, 0, len(baseT)+3*len(theta)+2+6*nt)
		for _, t := range baseT {
			args = append(args, t)
		}
		for _, group := range [][]*tensors.Tensor{theta, mom, vel} {
			for _, t := range group {
				args = append(args, t)
			}
		}
		args = append(args, step, float32(lr))
		for i := range sb {
			for _, t := range append(sb[i].PadTo(T).Tensors(), qb[i].PadTo(T).Tensors()...) {
				args = append(args, t)
			}
		}
		out, err := ex.meta.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("meta: %s meta-step %d: %w", meta.MAMLEnLLM, it, err)
		}
		na := len(theta)
		q, s, ok := kit.ScalarF(out[3*na]), kit.ScalarF(out[3*na+1]), kit.ScalarF(out[3*na+3]) == 1
		if !ok || !kit.Finite(q, s) {
			abort := div.Reject() // the step is dropped and the outer lr halved
			lr = m.opts.OuterLR * div.Scale()
			kit.Warn(env, meta.MAMLEnLLM, "", fmt.Sprintf("meta-step %d not finite (query loss %v); rejected, outer lr → %g", it, q, lr))
			if abort != nil {
				return nil, fmt.Errorf("meta: %s: %w", meta.MAMLEnLLM, abort)
			}
			continue
		}
		div.Accept()
		theta, mom, vel = out[:na], out[na:2*na], out[2*na:3*na]
		if mg.shared() {
			step += float32(m.opts.InnerSteps + 1)
		} else {
			step++
		}
		e := kit.StepEvent(meta.MAMLEnLLM, "", "outer", it, m.opts.MetaSteps, lr, start)
		e.SupportLoss, e.QueryLoss = events.F(s), events.F(q)
		env.Publish(e)
	}
	art := &mamlArtifact{Adapter: &models.Adapter{Config: init.Config, Params: models.Params{}},
		M: models.Params{}, V: models.Params{}, Step: float64(step), Opt: m.opts.InnerOpt}
	for i, n := range names {
		art.Adapter.Params[n], art.M[n], art.V[n] = theta[i], mom[i], vel[i]
	}
	return art, nil
}

func (m *mamlMethod) Adapt(ctx context.Context, env *meta.Env, art meta.Artifact, task *tasks.Task, seed int64) (*meta.Adapted, error) {
	a, err := kit.AdaptStart[mamlArtifact](env, art, meta.MAMLEnLLM)
	if err != nil {
		return nil, err
	}
	names := a.Adapter.Params.Names()
	mg := m.graph(env, names, m.opts.AdaptSteps)
	mg.LoRA = a.Adapter.Config
	if a.Opt != "" {
		mg.Inner.Opt = a.Opt // the moments only make sense with the rule they were trained with
	}
	ex, err := newMAMLExecs(env.Backend, mg, env.Model.Params.Names(), 0)
	if err != nil {
		return nil, err
	}
	support := kit.Labelled(task.Splits.Train)
	if len(support) == 0 {
		return &meta.Adapted{Adapter: a.Adapter.Clone()}, nil // nothing to adapt on: the meta-learned init
	}
	sb, qb, valEx := kit.AdaptBatches(env, task, support, seed)
	theta, mom, vel := a.Adapter.Params.Tensors(), a.M.Tensors(), a.V.Tensors()
	step := float32(a.Step)
	baseT := env.Model.Params.Tensors()
	na := len(theta)
	for j := 1; j <= m.opts.AdaptSteps; j++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		args := make([]any, 0, len(baseT)+3*na+8)
		for _, t := range baseT {
			args = append(args, t)
		}
		for _, group := range [][]*tensors.Tensor{theta, mom, vel} {
			for _, t := range group {
				args = append(args, t)
			}
		}
		args = append(args, step, float32(m.opts.InnerLR))
		for _, t := range append(sb.Tensors(), qb.Tensors()...) {
			args = append(args, t)
		}
		out, err := ex.adapt.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("meta: %s inner step %d: %w", meta.MAMLEnLLM, j, err)
		}
		sl, ql := kit.ScalarF(out[3*na]), kit.ScalarF(out[3*na+1])
		if kit.ScalarF(out[3*na+2]) != 1 || !kit.Finite(sl, ql) {
			kit.Warn(env, meta.MAMLEnLLM, task.Name, fmt.Sprintf("inner step %d not finite; stopped at the previous step", j))
			break
		}
		theta, mom, vel = out[:na], out[na:2*na], out[2*na:3*na]
		step++
		e := kit.StepEvent(meta.MAMLEnLLM, task.Name, "inner", j, m.opts.AdaptSteps, m.opts.InnerLR, start)
		e.SupportLoss, e.QueryLoss = events.F(sl), events.F(ql)
		ad := &models.Adapter{Config: a.Adapter.Config, Params: kit.ParamsOf(names, theta)}
		if acc, ok := kit.QuickAccuracy(ctx, env, ad, valEx); ok {
			e.Accuracy = events.F(acc)
		}
		env.Publish(e)
	}
	return &meta.Adapted{Adapter: &models.Adapter{Config: a.Adapter.Config, Params: kit.ParamsOf(names, theta)}}, nil
}

func init() {
	meta.Register(meta.MAMLEnLLM, func(o meta.Options) (meta.Method, error) { return &mamlMethod{opts: o.MAML}, nil })
}
