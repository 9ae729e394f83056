package meta

import "fmt"

// DeGAMLOptions sets the budgets of DeGAML's meta-training and adaptation.
// Every zero field takes the default documented next to it (see
// DefaultDeGAMLOptions), so a partially filled struct from workbench.toml or a
// test is always complete after WithDefaults.
//
// The paper's values are for a 0.5B LLM on GPUs; ours are scaled for a
// ~0.5M–4M parameter byte-level model on two CPU cores, so that the whole
// meta-training (collect → generator → policy) on "nano" fits in a few minutes
// of the quick bench. Where we scale, the comment gives the paper's value.
type DeGAMLOptions struct {
	// --- checkpoint collection (core/meta/degaml/collect.go) ---

	// CollectTasks caps how many in-domain task instances get a LoRA
	// trajectory, picked round-robin over suites. Default 12. Every collected
	// task trains the generator (see HeldOutEvery).
	CollectTasks int
	// CollectPreSteps / CollectPreLR: the first LoRA phase. Default 40 steps
	// at 3e-3 (paper: 75 steps at 1e-4 on a 0.5B model; our from-scratch
	// nano needs the larger step, as No-Meta LoRA does).
	CollectPreSteps int
	CollectPreLR    float64
	// CollectFineSteps / CollectFineLR: the lower-lr second phase. Default 10
	// steps at 3e-4 (paper: 50 steps at 1e-5). Negative: none.
	CollectFineSteps int
	CollectFineLR    float64
	// CollectBatch: examples per LoRA step. Default 8 (paper: 32).
	CollectBatch int
	// CollectEvery: keep a checkpoint every this many steps. Default 1 (as
	// the paper).
	CollectEvery int
	// CollectWarmup: steps at the start of the pre phase whose checkpoints are
	// not kept. Default 20 (half the pre phase): the generator's target is
	// the task's mean late checkpoint, not the shared init. Negative: 0.
	CollectWarmup int
	// CollectInitSeed seeds the LoRA init shared by every task: one common
	// starting point makes checkpoints of different tasks comparable, which
	// is what lets a generator regress them. Default 1234.
	CollectInitSeed int64
	// HeldOutEvery: when > 0, every k-th collected task is held out of
	// generator training and selection and only reported on. Default 0: all
	// collected tasks train the generator, which is validated by
	// cross-validation (ridge) or inner-validation tasks (hc).
	HeldOutEvery int

	// --- generalization module G (core/meta/degaml: encoder.go, generator.go, ridge.go) ---

	// EmbedKind: the prompt features (encoder.go): "bow" (default, bag of
	// tokens), "hidden" (mean-pooled final hidden state of the frozen base)
	// or "bow+hidden". EmbedBigrams: hashed token-pair buckets of "bow";
	// default 1024, negative for none. EmbedPairDist: pairs at distance
	// 1..EmbedPairDist; default 2.
	EmbedKind     string
	EmbedBigrams  int
	EmbedPairDist int
	// PromptBatch: prompts per generator input (repeated if fewer). Default
	// 32 (paper: 128).
	PromptBatch int
	// PromptMaxTokens truncates each prompt before encoding. Default 128.
	PromptMaxTokens int
	// PromptPool caps how many of a task's prompts are encoded (a random
	// subset); prompt batches are drawn from it. Default 64.
	PromptPool int
	// GenDecoder: "ridge" (default: closed-form kernel ridge, λ chosen by
	// cross-validation over the training tasks) or "hc" (the paper's
	// hyper-convolutional decoder trained by MSE, early-stopped on
	// inner-validation tasks). On the built-in v2 worlds ridge's adapters
	// reached the same-regime oracle (59 % vs 50 % for hc and 49 % for the
	// mean checkpoint, 24 held-out worlds); hc won on a two-regime toy world.
	// See SCIENCE.md, "Methods".
	GenDecoder string
	// GenSelect: how ridge chooses λ — "accuracy" (default: the cross-fitted
	// validation accuracy of the generated adapters; checkpoint noise makes
	// the MSE-optimal λ shrink predictions to near the mean) or "mse".
	GenSelect string
	// GenRidgeRows: prompt batches per task in the ridge fit. Default 4.
	// GenFolds: folds of the ridge λ cross-validation and of the
	// cross-fitted accuracy report. Default 6.
	GenRidgeRows int
	GenFolds     int
	// GenStdFloor floors each prompt feature's s.d. at this fraction of the
	// RMS s.d. (a feature constant over the training tasks would otherwise
	// explode when it moves at test time). Default 0.1.
	GenStdFloor float64
	// GenChannels: width of the hyper-convolutional decoder. Default 32.
	GenChannels int
	// GenKernel: 1-D kernel over the prompt axis. Default 9 (as the paper),
	// capped at 2·PromptBatch−1.
	GenKernel int
	// GenSteps / GenBatch / GenLR / GenWD / GenNoise: generator training.
	// Defaults 300 steps, batch 16, lr 3e-4, wd 0.1, input noise 1e-3
	// (paper: thousands of steps, batch 64, lr 3e-5, wd 0.1, noise 1e-4 on
	// unit-norm SBERT embeddings; ours are standardized per feature, so a
	// comparable relative noise is larger).
	GenSteps int
	GenBatch int
	GenLR    float64
	GenWD    float64
	GenNoise float64
	// GenWeighting: "variance" (default) standardizes every LoRA tensor by its
	// spread over the collected checkpoints, i.e. the MSE is weighted per layer
	// by inverse channel variance; "none" regresses raw values.
	GenWeighting string

	// --- adaptation module π (core/meta/degaml: families.go, policy.go) ---

	// PolicyTasks: in-domain tasks the policy is trained on (preferably not
	// the collected ones, so generated adapters are as fresh as at test
	// time). Default 3.
	PolicyTasks int
	// PolicyIterations: ReST^EM iterations (E-step + M-step). Default 2.
	PolicyIterations int
	// PolicyHypotheses: hypotheses sampled per task and iteration, at least
	// PolicyMinPerFamily of each family. Defaults 20 and 2 (as the paper).
	PolicyHypotheses   int
	PolicyMinPerFamily int
	// PolicyFeatureDim: size of the random projection of the mean prompt
	// embedding in the policy's features. Default 8.
	PolicyFeatureDim int
	// PolicyEpochs / PolicyLR / PolicyL2: the M-step (softmax regression by
	// maximum likelihood on reward-1 hypotheses). Defaults 200, 0.5, 1e-3.
	PolicyEpochs int
	PolicyLR     float64
	PolicyL2     float64
	// AdaptTopK: at test time the policy's K most probable hypotheses are
	// executed and the best on the validation split is kept. Default 2.
	AdaptTopK int
	// SlotMaxPrompts: prompts SLOT fits δ on (paper: up to 32). Default 32.
	SlotMaxPrompts int
	// SlotWD: AdamW weight decay of SLOT's δ. Default 0.01 (PyTorch's AdamW).
	SlotWD float64

	// Family grids (the paper's ranges, discretized and scaled).
	// TTT: steps × lr × batch. Defaults {2,5,10} × {1e-4,1e-3,3e-3} × {4,8}
	// (paper: 1–50 steps, lr 1e-6…1e-4 ≈ 1%–100% of its collection lr, batch 2–8).
	TTTSteps []int
	TTTLRs   []float64
	TTTBatch []int
	// TTTWD: AdamW weight decay in TTT. Default 0.01 (PyTorch's AdamW).
	TTTWD float64
	// TTS: ensemble sizes × {majority, maxconf}. Default {2,4,6} (paper 2–10).
	TTSSizes []int
	// Mix: λ grid. Default {0.25, 0.5, 0.75}. MixMode: "delta" (default)
	// interpolates the weight updates, ΔW = (1−λ)·B₁A₁ + λ·B₂A₂, exactly, as
	// a rank-2r adapter; "factors" interpolates A and B separately (cheaper,
	// rank r, but the product is not the interpolated update).
	MixLambdas []float64
	MixMode    string
	// SFT: supervised fine-tuning of the generated adapter on the labelled
	// support set (answer-only loss, AdamW), the fifth family: steps × lr,
	// batch SFTBatch. Defaults {5, 10} × {3e-3, 1e-2}, batch 8.
	SFTSteps []int
	SFTLRs   []float64
	SFTBatch int
	// SLOT: steps × lr. Defaults {1,3,5} × {1e-3,1e-2,1e-1} (as the paper).
	SlotSteps []int
	SlotLRs   []float64

	// Seed for every random choice of meta-training. Default 7.
	Seed int64
}

// DefaultDeGAMLOptions returns the defaults documented on DeGAMLOptions.
func DefaultDeGAMLOptions() DeGAMLOptions {
	return DeGAMLOptions{
		CollectTasks:     12,
		CollectPreSteps:  40,
		CollectPreLR:     3e-3,
		CollectFineSteps: 10,
		CollectFineLR:    3e-4,
		CollectBatch:     8,
		CollectEvery:     1,
		CollectWarmup:    20,
		CollectInitSeed:  1234,

		EmbedKind:       EmbedBOW,
		EmbedBigrams:    1024,
		EmbedPairDist:   2,
		PromptBatch:     32,
		PromptMaxTokens: 128,
		PromptPool:      64,
		GenDecoder:      GenRidge,
		GenSelect:       GenSelectAccuracy,
		GenRidgeRows:    4,
		GenFolds:        6,
		GenStdFloor:     0.1,
		GenChannels:     32,
		GenKernel:       9,
		GenSteps:        300,
		GenBatch:        16,
		GenLR:           3e-4,
		GenWD:           0.1,
		GenNoise:        1e-3,
		GenWeighting:    "variance",

		PolicyTasks:        3,
		PolicyIterations:   2,
		PolicyHypotheses:   20,
		PolicyMinPerFamily: 2,
		PolicyFeatureDim:   8,
		PolicyEpochs:       200,
		PolicyLR:           0.5,
		PolicyL2:           1e-3,
		AdaptTopK:          2,
		SlotMaxPrompts:     32,
		SlotWD:             0.01,

		TTTSteps:   []int{2, 5, 10},
		TTTLRs:     []float64{1e-4, 1e-3, 3e-3},
		TTTBatch:   []int{4, 8},
		TTTWD:      0.01,
		TTSSizes:   []int{2, 4, 6},
		MixLambdas: []float64{0.25, 0.5, 0.75},
		MixMode:    MixDelta,
		SFTSteps:   []int{5, 10},
		SFTLRs:     []float64{3e-3, 1e-2},
		SFTBatch:   8,
		SlotSteps:  []int{1, 3, 5},
		SlotLRs:    []float64{1e-3, 1e-2, 1e-1},

		Seed: 7,
	}
}

// WithDefaults fills every zero field from DefaultDeGAMLOptions.
func (o DeGAMLOptions) WithDefaults() DeGAMLOptions {
	d := DefaultDeGAMLOptions()
	setI := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	setF := func(p *float64, v float64) {
		if *p <= 0 {
			*p = v
		}
	}
	setI(&o.CollectTasks, d.CollectTasks)
	setI(&o.CollectPreSteps, d.CollectPreSteps)
	setF(&o.CollectPreLR, d.CollectPreLR)
	if o.CollectFineSteps < 0 {
		o.CollectFineSteps = 0
	} else if o.CollectFineSteps == 0 {
		o.CollectFineSteps = d.CollectFineSteps
	}
	setF(&o.CollectFineLR, d.CollectFineLR)
	setI(&o.CollectBatch, d.CollectBatch)
	setI(&o.CollectEvery, d.CollectEvery)
	if o.CollectWarmup == 0 {
		o.CollectWarmup = d.CollectWarmup
	} else if o.CollectWarmup < 0 {
		o.CollectWarmup = 0
	}
	if o.CollectInitSeed == 0 {
		o.CollectInitSeed = d.CollectInitSeed
	}
	o.HeldOutEvery = max(o.HeldOutEvery, 0)
	if o.EmbedKind == "" {
		o.EmbedKind = d.EmbedKind
	}
	if o.EmbedBigrams == 0 {
		o.EmbedBigrams = d.EmbedBigrams
	} else if o.EmbedBigrams < 0 {
		o.EmbedBigrams = 0
	}
	setI(&o.EmbedPairDist, d.EmbedPairDist)
	if o.GenDecoder == "" {
		o.GenDecoder = d.GenDecoder
	}
	if o.GenSelect == "" {
		o.GenSelect = d.GenSelect
	}
	setI(&o.GenRidgeRows, d.GenRidgeRows)
	setI(&o.GenFolds, d.GenFolds)
	setF(&o.GenStdFloor, d.GenStdFloor)
	setI(&o.PromptBatch, d.PromptBatch)
	setI(&o.PromptMaxTokens, d.PromptMaxTokens)
	setI(&o.PromptPool, d.PromptPool)
	setI(&o.GenChannels, d.GenChannels)
	setI(&o.GenKernel, d.GenKernel)
	setI(&o.GenSteps, d.GenSteps)
	setI(&o.GenBatch, d.GenBatch)
	setF(&o.GenLR, d.GenLR)
	if o.GenWD == 0 {
		o.GenWD = d.GenWD
	}
	if o.GenNoise == 0 {
		o.GenNoise = d.GenNoise
	}
	if o.GenWeighting == "" {
		o.GenWeighting = d.GenWeighting
	}
	setI(&o.PolicyTasks, d.PolicyTasks)
	setI(&o.PolicyIterations, d.PolicyIterations)
	setI(&o.PolicyHypotheses, d.PolicyHypotheses)
	setI(&o.PolicyMinPerFamily, d.PolicyMinPerFamily)
	setI(&o.PolicyFeatureDim, d.PolicyFeatureDim)
	setI(&o.PolicyEpochs, d.PolicyEpochs)
	setF(&o.PolicyLR, d.PolicyLR)
	if o.PolicyL2 == 0 {
		o.PolicyL2 = d.PolicyL2
	}
	setI(&o.AdaptTopK, d.AdaptTopK)
	setI(&o.SlotMaxPrompts, d.SlotMaxPrompts)
	if o.SlotWD == 0 {
		o.SlotWD = d.SlotWD
	}
	if o.MixMode == "" {
		o.MixMode = d.MixMode
	}
	if len(o.SFTSteps) == 0 {
		o.SFTSteps = d.SFTSteps
	}
	if len(o.SFTLRs) == 0 {
		o.SFTLRs = d.SFTLRs
	}
	setI(&o.SFTBatch, d.SFTBatch)
	if len(o.TTTSteps) == 0 {
		o.TTTSteps = d.TTTSteps
	}
	if len(o.TTTLRs) == 0 {
		o.TTTLRs = d.TTTLRs
	}
	if len(o.TTTBatch) == 0 {
		o.TTTBatch = d.TTTBatch
	}
	if o.TTTWD == 0 {
		o.TTTWD = d.TTTWD
	}
	if len(o.TTSSizes) == 0 {
		o.TTSSizes = d.TTSSizes
	}
	if len(o.MixLambdas) == 0 {
		o.MixLambdas = d.MixLambdas
	}
	if len(o.SlotSteps) == 0 {
		o.SlotSteps = d.SlotSteps
	}
	if len(o.SlotLRs) == 0 {
		o.SlotLRs = d.SlotLRs
	}
	if o.Seed == 0 {
		o.Seed = d.Seed
	}
	return o
}

// Validate rejects option values with no meaning.
func (o DeGAMLOptions) Validate() error {
	switch o.GenDecoder {
	case GenRidge, GenHC:
	default:
		return fmt.Errorf("meta: degaml gen_decoder %q (want %s or %s)", o.GenDecoder, GenRidge, GenHC)
	}
	switch o.GenSelect {
	case GenSelectAccuracy, GenSelectMSE:
	default:
		return fmt.Errorf("meta: degaml gen_select %q (want %s or %s)", o.GenSelect, GenSelectAccuracy, GenSelectMSE)
	}
	switch o.EmbedKind {
	case EmbedBOW, EmbedHidden, EmbedBOWHidden:
	default:
		return fmt.Errorf("meta: degaml embed %q (want %s, %s or %s)", o.EmbedKind, EmbedBOW, EmbedHidden, EmbedBOWHidden)
	}
	switch o.MixMode {
	case MixDelta, MixFactors:
	default:
		return fmt.Errorf("meta: degaml mix_mode %q (want %s or %s)", o.MixMode, MixDelta, MixFactors)
	}
	return nil
}

// Embedding kinds.
const (
	EmbedBOW       = "bow"
	EmbedHidden    = "hidden"
	EmbedBOWHidden = "bow+hidden"
)

// Mixing variants (DeGAMLOptions.MixMode).
const (
	MixDelta   = "delta"
	MixFactors = "factors"
)

// How the ridge decoder's λ is chosen (DeGAMLOptions.GenSelect).
const (
	GenSelectAccuracy = "accuracy"
	GenSelectMSE      = "mse"
)

// Decoders of the generalization module.
const (
	GenRidge = "ridge"
	GenHC    = "hc"
)
