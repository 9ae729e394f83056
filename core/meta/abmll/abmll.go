package abmll

// abmll (Zhang, Snell, Griffiths 2025): amortized Bayesian meta-learning for
// LoRA, following ABML (Ravi & Beatson 2019) with the paper's two scales.
//
// Variational family, as published: for every LoRA-targeted weight W₀
// [out,in] the update ΔW has a diagonal Gaussian whose mean and standard
// deviation come from LoRA pairs,
//
//	μ = s·B_μ·A_μ,   σ = B_σ·A_σ + c          (elementwise over ΔW [out,in])
//
// with s the adapter's LoRA scale (so the mean is exactly a PEFT adapter) and
// c > 0 a constant (SigmaOffset). Global θ = (A_μ, B_μ, A_σ, B_σ) gives the
// prior p(ΔW | θ) = N(μ_θ, σ_θ²); the task posterior q(ΔW | φ_i) =
// N(μ_φ, σ_φ²) is amortized as in ABML: φ_i starts at θ and takes
// `InnerSteps` SGD steps on the support objective
//
//	L_S(φ) = E_ε[NLL_S(W₀ + μ_φ + σ_φ⊙ε)] + β·KL(q_φ ‖ p_θ)
//
// (one reparameterized draw per step). θ minimizes, over a batch of tasks,
//
//	L(θ) = mean_i { E_ε[NLL_Q(W₀ + μ_φi + σ_φi⊙ε)] + β·KL(q_φi ‖ p_θ) } + γ·KL(N(μ_θ, σ_θ²) ‖ N(0, σ₀²))
//
// where β = TaskFidelity scales the fidelity of the task posteriors to the
// global prior (how far a task may move from θ) and γ = GlobalReg scales the
// global regularisation of θ (a KL to the hyperprior N(0, σ₀²), σ₀ =
// PriorStd, which regularizes both μ_θ and σ_θ). Both are needed at LLM
// scale: the NLL is a mean per token, the KLs sum over every ΔW element.
// σ enters only squared (in the KLs) or as σ⊙ε (ε symmetric), so the sign
// of B_σA_σ + c is immaterial.
//
// By default the refinement is first-order (inner gradients
// StopGradient'ed): θ gets the query NLL's gradient through φ_i = θ + Δ, and
// the task KL is taken with the posterior held fixed, KL(sg(q_φi) ‖ p_θ) —
// its partial derivative in θ, which pulls the prior toward the task
// posteriors (the envelope-theorem first-order approximation; without the
// stop the KL of θ + sg(Δ) vs θ would not depend on μ_θ at all).
// SecondOrder differentiates through the refinement steps instead. The inner
// SGD gradient is clipped to global norm 1 because the KL's curvature β/σ²
// grows as σ shrinks.
//
// Deviations from the paper, and why: the hyperprior is N(0, σ₀²) on ΔW
// (the paper's exact hyperprior is not restated in DeGAML's description).
// Sampling (meta.ABMLLOptions.Sampling): "dense" forms W₀ + ΔW per module in
// the graph (one ΔW shared by every token of the batch: the exact joint);
// "local" samples the module outputs by local reparameterization (local.go:
// per-output marginals exact, noise independent per token — a deviation)
// with the KLs in low-rank closed forms and row blocks, so no [out,in]
// tensor exists; "auto" (default) is local when the dense ΔW of all modules
// exceeds DenseBudgetElems — at real size, never on the nano world.
//
// Test time: φ starts at θ and takes AdaptSteps refinement steps (the
// workbench's [adapt] inner_steps, the budget of every gradient method, as
// MAML-en-LLM's); meta-training refines InnerSteps.
//
// Prediction: "mc" (default) returns Samples draws of ΔW from the posterior
// as an ensemble whose option probabilities are averaged (Vote "mean"), the
// Monte-Carlo Bayesian predictive, from which Evaluate reports accuracy and
// ECE; "mean" runs the posterior mean, a plain rank-r LoRA. Dense sampling:
// a drawn ΔW is handed to the scorer as an exact LoRA of rank
// R = max min(out, in) (identity on one side, ΔW on the other). Local
// sampling: every member is the posterior-mean LoRA scored with its own
// seeded output noise (Adapted.Noise), one LRT forward pass per sample.
//
// Cost (dense): like first-order MAML plus one [out,in] product per module
// and factor pair; see SCIENCE.md for measured wall times. Local: rank-r²
// products per module and token, and the KLs' blocked [out,in] passes
// (Σ log σ², the task KL's ratio), whose memory is bounded by one block.

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/meta/internal/kit"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/degaml/workbench/tasks"
)

// ABMLLGraph builds abmll's graphs. Factor lists are in Names order (the
// sorted adapter names: each module's lora_A then lora_B); ΔW lists are in
// module order (one [out,in] node per module).
type ABMLLGraph struct {
	Names       []string
	Scale       float64 // LoRA scale s of the mean pair
	Steps       int     // refinement steps
	LR          float64 // refinement SGD step
	InnerClip   float64 // global-norm clip of each refinement gradient; <= 0: none
	Fidelity    float64 // β, TaskFidelity
	Reg         float64 // γ, GlobalReg
	Offset      float64 // c
	PriorStd    float64 // σ₀ of the hyperprior
	SecondOrder bool
	// Local: the KLs in low-rank closed forms and row blocks (local.go)
	// instead of dense [out,in] tensors; first-order only, so SecondOrder
	// keeps the dense ones.
	Local bool
}

// pairs returns the factor indices (A, B) of each module.
func (ag ABMLLGraph) pairs(n int) [][2]int {
	out := make([][2]int, 0, n/2)
	for i := 0; i+1 < n; i += 2 {
		out = append(out, [2]int{i, i + 1})
	}
	return out
}

// Mean is μ = s·B_μ·A_μ per module.
func (ag ABMLLGraph) Mean(f []*Node) []*Node {
	var out []*Node
	for _, p := range ag.pairs(len(f)) {
		out = append(out, MulScalar(MatMul(f[p[1]], f[p[0]]), ag.Scale))
	}
	return out
}

// Sigma is σ = B_σ·A_σ + c per module.
func (ag ABMLLGraph) Sigma(f []*Node) []*Node {
	var out []*Node
	for _, p := range ag.pairs(len(f)) {
		out = append(out, AddScalar(MatMul(f[p[1]], f[p[0]]), ag.Offset))
	}
	return out
}

// GaussianKL is Σ KL(N(μq, σq²) ‖ N(μp, σp²)) over every element of every
// tensor: ½·log(σp²/σq²) + (σq² + (μq−μp)²)/(2σp²) − ½. σp may be nil for
// a constant prior std sp (then μp nil means 0).
func GaussianKL(muQ, sigQ, muP, sigP []*Node) *Node {
	var total *Node
	for i := range muQ {
		sq2, sp2 := Square(sigQ[i]), Square(sigP[i])
		k := Add(MulScalar(Log(Div(sp2, sq2)), 0.5),
			Div(Add(sq2, Square(Sub(muQ[i], muP[i]))), MulScalar(sp2, 2)))
		s := AddScalar(ReduceAllSum(k), -0.5*float64(sigQ[i].Shape().Size()))
		if total == nil {
			total = s
		} else {
			total = Add(total, s)
		}
	}
	return total
}

// GlobalKL is KL(N(μ_θ, σ_θ²) ‖ N(0, σ₀²)) summed over every ΔW element.
func (ag ABMLLGraph) GlobalKL(mu, sig []*Node) *Node {
	zero, s0 := make([]*Node, len(mu)), make([]*Node, len(mu))
	for i, m := range mu {
		zero[i] = ZerosLike(m)
		s0[i] = AddScalar(ZerosLike(m), ag.PriorStd)
	}
	return GaussianKL(mu, sig, zero, s0)
}

// NLLFn is a task's negative log-likelihood (mean per counted token) with the
// weight updates ΔW (module order) added to the base weights.
type NLLFn func(deltas []*Node) *Node

// SampleNLL is a task's NLL under one reparameterized draw from the Gaussian
// with factors f (μ pairs…, σ pairs…); it returns the NLL and the RNG.
type SampleNLL func(rng *Node, f []*Node) (nll, rngOut *Node)

// Dense draws ΔW = μ + σ⊙ε densely (one ΔW per module for the whole batch)
// and evaluates nll on it.
func (ag ABMLLGraph) Dense(nll NLLFn) SampleNLL {
	return func(rng *Node, f []*Node) (*Node, *Node) {
		muF, sigF := split(f)
		var d []*Node
		rng, d = Draw(rng, ag.Mean(muF), ag.Sigma(sigF))
		return nll(d), rng
	}
}

// TaskKL is Σ KL(q ‖ p) over every ΔW element for factor lists q and p.
func (ag ABMLLGraph) TaskKL(q, p []*Node) *Node {
	if ag.Local && !ag.SecondOrder {
		return ag.ChunkedTaskKL(q, p)
	}
	qm, qs := split(q)
	pm, ps := split(p)
	return GaussianKL(ag.Mean(qm), ag.Sigma(qs), ag.Mean(pm), ag.Sigma(ps))
}

// Draw returns μ + σ⊙ε with ε ~ N(0, 1) from the RNG state.
func Draw(rng *Node, mu, sig []*Node) (*Node, []*Node) {
	out := make([]*Node, len(mu))
	for i := range mu {
		var eps *Node
		rng, eps = RandomNormal(rng, mu[i].Shape())
		out[i] = Add(mu[i], Mul(sig[i], eps))
	}
	return rng, out
}

// split separates θ or φ = (mean factors…, sigma factors…).
func split(f []*Node) (muF, sigF []*Node) { return f[:len(f)/2], f[len(f)/2:] }

// RefineStep is one SGD step of the posterior factors phi = (μ pairs…, σ
// pairs…) on L_S(φ) = NLL_S(draw) + β·KL(q_φ ‖ p_θ), p_θ given by its
// factors prior. It returns the new factors, the step's NLL and KL, and the RNG.
func (ag ABMLLGraph) RefineStep(rng *Node, phi, prior []*Node, support SampleNLL) (next []*Node, nll, kl, rngOut *Node) {
	nll, rng = support(rng, phi)
	kl = ag.TaskKL(phi, prior)
	obj := Add(nll, MulScalar(kl, ag.Fidelity))
	grads := Gradient(obj, phi...)
	if !ag.SecondOrder {
		for i := range grads {
			grads[i] = StopGradient(grads[i])
		}
	}
	if ag.InnerClip > 0 {
		grads, _ = train.ClipByGlobalNorm(grads, ag.InnerClip)
	}
	next = make([]*Node, len(phi))
	for i := range phi {
		next[i] = Sub(phi[i], MulScalar(grads[i], ag.LR))
	}
	return next, nll, kl, rng
}

// Refine runs the amortized posterior refinement from θ on the support NLL;
// it returns the posterior factors, the support NLL of each step and the RNG.
func (ag ABMLLGraph) Refine(rng *Node, theta []*Node, support SampleNLL) (phi, supportNLL []*Node, rngOut *Node) {
	phi = theta
	for range ag.Steps {
		var nll *Node
		phi, nll, _, rng = ag.RefineStep(rng, phi, theta, support)
		supportNLL = append(supportNLL, nll)
	}
	return phi, supportNLL, rng
}

// TaskObjective is one task's part of L(θ): refine on the support set, then
// NLL_Q of a draw from q_φ plus β·KL(q_φ ‖ p_θ) (the posterior held fixed in
// the KL when first-order). It returns the objective and its parts.
func (ag ABMLLGraph) TaskObjective(rng *Node, theta []*Node, support, query SampleNLL) (obj, queryNLL, kl, supportNLL0, rngOut *Node) {
	phi, sn, rng := ag.Refine(rng, theta, support)
	queryNLL, rng = query(rng, phi)
	klPhi := phi
	if !ag.SecondOrder {
		klPhi = make([]*Node, len(phi))
		for i, p := range phi {
			klPhi[i] = StopGradient(p)
		}
	}
	kl = ag.TaskKL(klPhi, theta)
	obj = Add(queryNLL, MulScalar(kl, ag.Fidelity))
	if len(sn) > 0 {
		supportNLL0 = sn[0]
	} else {
		supportNLL0 = ZerosLike(queryNLL)
	}
	return obj, queryNLL, kl, supportNLL0, rng
}

// Global is γ·KL(N(μ_θ, σ_θ²) ‖ N(0, σ₀²)).
func (ag ABMLLGraph) Global(theta []*Node) *Node {
	if ag.Local && !ag.SecondOrder {
		return MulScalar(ag.LowRankGlobalKL(theta), ag.Reg)
	}
	muF, sigF := split(theta)
	return MulScalar(ag.GlobalKL(ag.Mean(muF), ag.Sigma(sigF)), ag.Reg)
}

// ---- the method ----

type abmllMethod struct{ opts meta.ABMLLOptions }

func (*abmllMethod) Name() string { return meta.ABMLL }

func (m *abmllMethod) graph(names []string, scale float64, steps int) ABMLLGraph {
	return ABMLLGraph{Names: names, Scale: scale, Steps: steps, LR: m.opts.InnerLR, InnerClip: 1,
		Fidelity: m.opts.TaskFidelity, Reg: m.opts.GlobalReg, Offset: m.opts.SigmaOffset,
		PriorStd: m.opts.PriorStd, SecondOrder: m.opts.SecondOrder}
}

// useLocal resolves the sampling mode for the targeted modules of model.
func (m *abmllMethod) useLocal(model *models.Model, mods []string) (bool, error) {
	shapes := make([][2]int, len(mods))
	for i, mod := range mods {
		w, ok := model.Params[mod+".weight"]
		if !ok {
			return false, fmt.Errorf("meta: %s: the model has no weight %s.weight", meta.ABMLL, mod)
		}
		d := w.Shape().Dimensions
		shapes[i] = [2]int{d[0], d[1]}
	}
	return UseLocal(m.opts.Sampling, shapes)
}

// likelihood is the NLL of batch b under one draw from the Gaussian with
// the given factors: local reparameterization or a dense ΔW.
func likelihood(ag ABMLLGraph, cfg models.Config, lora models.LoRAConfig, names, mods []string, base models.Weights, b train.BatchNodes) SampleNLL {
	if ag.Local {
		return LocalNLL(cfg, lora, names, mods, ag.Offset, base, b, !ag.SecondOrder)
	}
	return ag.Dense(deltaNLL(cfg, base, mods, b))
}

// meanNLL is the NLL of batch b with the posterior mean μ = s·B_μA_μ, run as
// the LoRA it is (no [out,in] tensor; the loss chunked over the vocabulary
// unless the graph is differentiated twice).
func meanNLL(cfg models.Config, lora models.LoRAConfig, names []string, muF []*Node, base models.Weights, b train.BatchNodes) *Node {
	l := lora
	h := models.Hidden(cfg, base, b.IDs, models.ForwardOptions{LoRA: &l, Adapter: models.Bind(names, muF)})
	return models.ChunkedLMLoss(cfg, base, h, b.Targets, b.Weights, models.LossChunkElems)
}

// abmllModules are the base-weight names of the LoRA-targeted modules, in
// the factor order of names (each module's lora_A then lora_B).
func abmllModules(names []string) ([]string, error) {
	var mods []string
	for i := 0; i+1 < len(names); i += 2 {
		a, b := names[i], names[i+1]
		mod := strings.TrimSuffix(a, ".lora_A")
		if mod == a || b != mod+".lora_B" {
			return nil, fmt.Errorf("meta: %s: adapter names %q, %q are not a lora_A/lora_B pair", meta.ABMLL, a, b)
		}
		mods = append(mods, mod)
	}
	if len(names)%2 != 0 || len(mods) == 0 {
		return nil, fmt.Errorf("meta: %s: adapter has no lora_A/lora_B pairs", meta.ABMLL)
	}
	return mods, nil
}

// deltaNLL is the NLL of batch b with W₀ + ΔW for the modules mods.
func deltaNLL(cfg models.Config, base models.Weights, mods []string, b train.BatchNodes) NLLFn {
	return func(d []*Node) *Node {
		w := make(models.Weights, len(base))
		for k, v := range base {
			w[k] = v
		}
		for i, mod := range mods {
			w[mod+".weight"] = Add(base[mod+".weight"], d[i])
		}
		return train.LMLoss(cfg, models.LoRAConfig{}, w, nil, nil, b)
	}
}

// abmllArtifact is θ: the mean pair as a PEFT adapter, the sigma pair's
// factors (same names and shapes) and c.
type abmllArtifact struct {
	Mean   *models.Adapter
	Sigma  models.Params
	Offset float64
}

const abmllSigmaFile = "abmll_sigma.safetensors"

func (a *abmllArtifact) Save(dir string) error {
	if err := a.Mean.SavePEFT(dir); err != nil {
		return err
	}
	ts := map[string]safetensors.Tensor{}
	for n, t := range a.Sigma {
		ts[n] = safetensors.Tensor{DType: "F32", Shape: t.Shape().Dimensions, F32: tensors.MustCopyFlatData[float32](t)}
	}
	return safetensors.Write(filepath.Join(dir, abmllSigmaFile), ts,
		map[string]string{"method": meta.ABMLL, "sigma_offset": strconv.FormatFloat(a.Offset, 'g', -1, 64)})
}

func (*abmllMethod) LoadArtifact(dir string) (meta.Artifact, error) {
	mean, err := models.LoadPEFT(dir)
	if err != nil {
		return nil, err
	}
	ts, meta, err := safetensors.ReadFile(filepath.Join(dir, abmllSigmaFile))
	if err != nil {
		return nil, err
	}
	a := &abmllArtifact{Mean: mean, Sigma: models.Params{}}
	if a.Offset, err = strconv.ParseFloat(meta["sigma_offset"], 64); err != nil {
		return nil, fmt.Errorf("meta: %s: sigma_offset: %w", dir, err)
	}
	for n, t := range ts {
		a.Sigma[n] = tensors.FromFlatDataAndDimensions(t.F32, t.Shape...)
	}
	return a, nil
}

func rngTensor(seed int64) (*tensors.Tensor, error) { return RNGStateFromSeed(seed) }

func (m *abmllMethod) MetaTrain(ctx context.Context, env *meta.Env, pool []*tasks.Task) (meta.Artifact, error) {
	pool, init, err := kit.MetaTrainStart(env, pool, meta.ABMLL)
	if err != nil {
		return nil, err
	}
	names := init.Params.Names()
	mods, err := abmllModules(names)
	if err != nil {
		return nil, err
	}
	ag := m.graph(names, init.Config.Scale(), m.opts.InnerSteps)
	if ag.Local, err = m.useLocal(env.Model, mods); err != nil {
		return nil, err
	}
	cfg := env.Model.Config
	baseNames := env.Model.Params.Names()
	nb, na := len(baseNames), len(names)
	nt := min(m.opts.TasksPerStep, len(pool))
	adam := train.DefaultAdam()
	adam.ClipNorm = m.opts.ClipNorm
	// inputs: base…, θ (2na), m (2na), v (2na), step, lr, rng, nt×(support, query)
	// outputs: θ…, m…, v…, rng, objective, queryNLL, supportNLL, task KL, global KL, ok
	exec, err := NewExec(env.Backend, func(in []*Node) []*Node {
		base := models.Bind(baseNames, in[:nb])
		theta := in[nb : nb+2*na]
		mo, vo := in[nb+2*na:nb+4*na], in[nb+4*na:nb+6*na]
		k := nb + 6*na
		step, lr, rng := in[k], in[k+1], in[k+2]
		rest := in[k+3:]
		var obj, qn, sn, kl *Node
		for i := range nt {
			sb, qb := train.BindBatch(rest[6*i:]), train.BindBatch(rest[6*i+3:])
			var o, q, kk, s *Node
			o, q, kk, s, rng = ag.TaskObjective(rng, theta, likelihood(ag, cfg, init.Config, names, mods, base, sb),
				likelihood(ag, cfg, init.Config, names, mods, base, qb))
			if obj == nil {
				obj, qn, kl, sn = o, q, kk, s
			} else {
				obj, qn, kl, sn = Add(obj, o), Add(qn, q), Add(kl, kk), Add(sn, s)
			}
		}
		f := 1 / float64(nt)
		obj, qn, kl, sn = MulScalar(obj, f), MulScalar(qn, f), MulScalar(kl, f), MulScalar(sn, f)
		glob := ag.Global(theta)
		obj = Add(obj, glob)
		grads := Gradient(obj, theta...)
		grads, norm := train.ClipByGlobalNorm(grads, adam.ClipNorm)
		np, nm, nv := train.AdamUpdate(adam, lr, AddScalar(step, 1), theta, grads, mo, vo)
		ok := train.AllFinite(append([]*Node{obj, norm}, np...)...)
		return append(append(append(np, nm...), nv...), rng, obj, qn, sn, kl, glob, ok)
	})
	if err != nil {
		return nil, err
	}
	// θ: the mean pair from the PEFT init (B = 0: μ = 0), the sigma pair
	// with its own random A and B = 0 (σ = c).
	sigInit := models.NewAdapter(env.Model.Config, env.LoRA, 2)
	theta := append(init.Params.Tensors(), sigInit.Params.Tensors()...)
	mo, vo := kit.ZerosLike(theta), kit.ZerosLike(theta)
	rng, err := rngTensor(17)
	if err != nil {
		return nil, err
	}
	hostRNG := kit.NewRNG(17, 0x61626d6c)
	baseT := env.Model.Params.Tensors()
	lr := m.opts.OuterLR
	var div train.Divergence
	done := 0
	for it := 1; it <= m.opts.MetaSteps; it++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		sb, qb, T := kit.MetaBatch(env, hostRNG, pool, nt, m.opts.Support, m.opts.Query)
		args := kit.Anys(baseT, theta, mo, vo, []*tensors.Tensor{kit.F32(float64(done)), kit.F32(lr), rng})
		for i := range sb {
			args = append(args, kit.Anys(sb[i].PadTo(T).Tensors(), qb[i].PadTo(T).Tensors())...)
		}
		out, err := exec.Exec(args...)
		if err != nil {
			return nil, fmt.Errorf("meta: %s meta-step %d: %w", meta.ABMLL, it, err)
		}
		k := 6 * na
		rng = out[k]
		obj, qn, sn, kl, glob := kit.ScalarF(out[k+1]), kit.ScalarF(out[k+2]), kit.ScalarF(out[k+3]), kit.ScalarF(out[k+4]), kit.ScalarF(out[k+5])
		if kit.ScalarF(out[k+6]) != 1 || !kit.Finite(obj, qn, sn, kl, glob) {
			abort := div.Reject() // the step is dropped and the outer lr halved
			lr = m.opts.OuterLR * div.Scale()
			kit.Warn(env, meta.ABMLL, "", fmt.Sprintf("meta-step %d not finite; rejected, outer lr → %g", it, lr))
			if abort != nil {
				return nil, fmt.Errorf("meta: %s: %w", meta.ABMLL, abort)
			}
			continue
		}
		div.Accept()
		theta, mo, vo = out[:2*na], out[2*na:4*na], out[4*na:6*na]
		done++
		e := kit.StepEvent(meta.ABMLL, "", "outer", it, m.opts.MetaSteps, lr, start)
		e.SupportLoss, e.QueryLoss = events.F(sn), events.F(qn)
		e.Message = fmt.Sprintf("objective %.4f  task KL %.4g  γ·global KL %.4g", obj, kl, glob)
		env.Publish(e)
	}
	return &abmllArtifact{Mean: &models.Adapter{Config: init.Config, Params: kit.ParamsOf(names, theta[:na])},
		Sigma: kit.ParamsOf(names, theta[na:]), Offset: m.opts.SigmaOffset}, nil
}

func (m *abmllMethod) Adapt(ctx context.Context, env *meta.Env, art meta.Artifact, task *tasks.Task, seed int64) (*meta.Adapted, error) {
	a, err := kit.AdaptStart[abmllArtifact](env, art, meta.ABMLL)
	if err != nil {
		return nil, err
	}
	names := a.Mean.Params.Names()
	mods, err := abmllModules(names)
	if err != nil {
		return nil, err
	}
	ag := m.graph(names, a.Mean.Config.Scale(), 1)
	ag.Offset = a.Offset
	if ag.Local, err = m.useLocal(env.Model, mods); err != nil {
		return nil, err
	}
	cfg := env.Model.Config
	baseNames := env.Model.Params.Names()
	nb, na := len(baseNames), len(names)
	theta := append(a.Mean.Params.Tensors(), a.Sigma.Tensors()...)
	support := kit.Labelled(task.Splits.Train)
	if len(support) == 0 {
		return m.predict(ctx, env, ag, mods, a.Mean.Config, names, theta, seed)
	}
	// inputs: base…, φ (2na), θ (2na), rng, support(3), query(3)
	// outputs: φ…, rng, supportNLL, KL, queryNLL at the posterior mean, ok
	exec, err := NewExec(env.Backend, func(in []*Node) []*Node {
		base := models.Bind(baseNames, in[:nb])
		phi, th := in[nb:nb+2*na], in[nb+2*na:nb+4*na]
		k := nb + 4*na
		rng, sb, qb := in[k], train.BindBatch(in[k+1:]), train.BindBatch(in[k+4:])
		next, nll, kl, rng := ag.RefineStep(rng, phi, th, likelihood(ag, cfg, a.Mean.Config, names, mods, base, sb))
		nmF, _ := split(next)
		q := meanNLL(cfg, a.Mean.Config, names, nmF, base, qb)
		ok := train.AllFinite(append([]*Node{nll, q}, next...)...)
		return append(next, rng, nll, kl, q, ok)
	})
	if err != nil {
		return nil, err
	}
	sb, qb, valEx := kit.AdaptBatches(env, task, support, seed)
	state, err := rngTensor(seed)
	if err != nil {
		return nil, err
	}
	phi := theta
	baseT := env.Model.Params.Tensors()
	steps := m.opts.AdaptSteps
	for j := 1; j <= steps; j++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		start := time.Now()
		out, err := exec.Exec(append(kit.Anys(baseT, phi, theta, []*tensors.Tensor{state}), kit.Anys(sb.Tensors(), qb.Tensors())...)...)
		if err != nil {
			return nil, fmt.Errorf("meta: %s refinement step %d: %w", meta.ABMLL, j, err)
		}
		state = out[2*na]
		nll, kl, q := kit.ScalarF(out[2*na+1]), kit.ScalarF(out[2*na+2]), kit.ScalarF(out[2*na+3])
		if kit.ScalarF(out[2*na+4]) != 1 || !kit.Finite(nll, kl, q) {
			kit.Warn(env, meta.ABMLL, task.Name, fmt.Sprintf("refinement step %d not finite; stopped at the previous step", j))
			break
		}
		phi = out[:2*na]
		e := kit.StepEvent(meta.ABMLL, task.Name, "inner", j, steps, m.opts.InnerLR, start)
		e.SupportLoss, e.QueryLoss = events.F(nll), events.F(q)
		if acc, ok := kit.QuickAccuracy(ctx, env, &models.Adapter{Config: a.Mean.Config, Params: kit.ParamsOf(names, phi[:na])}, valEx); ok {
			e.Accuracy = events.F(acc)
		}
		e.Message = fmt.Sprintf("KL %.4g", kl)
		env.Publish(e)
	}
	ad, err := m.predict(ctx, env, ag, mods, a.Mean.Config, names, phi, seed)
	if err != nil {
		return nil, err
	}
	if acc, ece, _, err := meta.Evaluate(ctx, env, ad, valEx); err == nil {
		env.Publish(events.Event{Kind: events.Log, Method: meta.ABMLL, Task: task.Name,
			Message: fmt.Sprintf("posterior (%s predictive) on val: accuracy %.3f, ECE %.3f", m.opts.Predict, acc, ece)})
	}
	return ad, nil
}

// predict turns posterior factors φ into what Evaluate runs: the
// posterior-mean adapter ("mean"), or Samples draws of ΔW = μ + σ⊙ε as an
// ensemble averaged by Vote "mean" (the Monte-Carlo predictive, "mc").
func (m *abmllMethod) predict(ctx context.Context, env *meta.Env, ag ABMLLGraph, mods []string, lora models.LoRAConfig, names []string, phi []*tensors.Tensor, seed int64) (*meta.Adapted, error) {
	na := len(names)
	mean := &models.Adapter{Config: lora, Params: kit.ParamsOf(names, phi[:na])}
	if m.opts.Predict != "mc" {
		return &meta.Adapted{Adapter: mean}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ag.Local {
		// Each member is the posterior mean with its own local-reparameterization
		// noise in every scoring pass: no dense ΔW, no full-rank LoRA.
		sig := kit.ParamsOf(names, phi[na:])
		ens := make([]*models.Adapter, m.opts.Samples)
		noise := make([]*train.OutputNoise, m.opts.Samples)
		for s := range ens {
			ens[s] = mean
			noise[s] = &train.OutputNoise{Key: fmt.Sprintf("abmll-local c=%g", ag.Offset), Params: sig,
				Seed: seed*1_009 + int64(s), Hook: localHook(mods, ag.Offset)}
		}
		return &meta.Adapted{Adapter: mean, Ensemble: ens, Noise: noise, Vote: meta.VoteMean}, nil
	}
	// ΔW statistics on the host: μ and σ per module.
	stats, err := ExecOnceN(env.Backend, func(f []*Node) []*Node {
		muF, sigF := split(f)
		return append(ag.Mean(muF), ag.Sigma(sigF)...)
	}, kit.Anys(phi)...)
	if err != nil {
		return nil, err
	}
	nm := len(mods)
	rng := kit.NewRNG(seed, 0x6d63)
	R := 0
	for _, t := range stats[:nm] {
		d := t.Shape().Dimensions
		R = max(R, min(d[0], d[1]))
	}
	ens := make([]*models.Adapter, m.opts.Samples)
	for s := range ens {
		deltas := make([][]float32, nm)
		dims := make([][]int, nm)
		for i := range nm {
			mv := tensors.MustCopyFlatData[float32](stats[i])
			sv := tensors.MustCopyFlatData[float32](stats[nm+i])
			for j := range mv {
				mv[j] += sv[j] * float32(rng.NormFloat64())
			}
			deltas[i], dims[i] = mv, stats[i].Shape().Dimensions
		}
		ens[s] = denseAdapter(lora, mods, deltas, dims, R)
	}
	return &meta.Adapted{Adapter: mean, Ensemble: ens, Vote: meta.VoteMean}, nil
}

// denseAdapter writes dense updates ΔW [out,in] per module as an exact LoRA
// of rank R ≥ min(out, in) and scale 1: identity on the shorter side, ΔW on
// the other (zero-padded to R), so ΔW = B·A.
func denseAdapter(lora models.LoRAConfig, mods []string, deltas [][]float32, dims [][]int, R int) *models.Adapter {
	cfg := models.LoRAConfig{Rank: R, Alpha: float64(R), Targets: append([]string(nil), lora.Targets...)}
	p := models.Params{}
	for i, mod := range mods {
		out, in := dims[i][0], dims[i][1]
		A := make([]float32, R*in)
		B := make([]float32, out*R)
		if in <= out { // A = [I_in; 0], B = [ΔW, 0]
			for j := range in {
				A[j*in+j] = 1
			}
			for o := range out {
				copy(B[o*R:o*R+in], deltas[i][o*in:(o+1)*in])
			}
		} else { // A = [ΔW; 0], B = [I_out, 0]
			copy(A, deltas[i])
			for o := range out {
				B[o*R+o] = 1
			}
		}
		p[mod+".lora_A"] = tensors.FromFlatDataAndDimensions(A, R, in)
		p[mod+".lora_B"] = tensors.FromFlatDataAndDimensions(B, out, R)
	}
	return &models.Adapter{Config: cfg, Params: p}
}

func init() {
	meta.Register(meta.ABMLL, func(o meta.Options) (meta.Method, error) { return &abmllMethod{opts: o.ABMLL}, nil })
}
