package meta

// DeGAMLOptions sets the budgets of DeGAML's meta-training and adaptation.
// Every zero field takes the default documented next to it (see
// DefaultDeGAMLOptions), so a partially filled struct from workbench.toml or a
// test is always complete after withDefaults.
//
// The paper's values are for a 0.5B LLM on GPUs; ours are scaled for a
// ~0.5M–4M parameter byte-level model on two CPU cores, so that the whole
// meta-training (collect → generator → policy) on "nano" fits in a few minutes
// of the quick bench. Where we scale, the comment gives the paper's value.
type DeGAMLOptions struct {
	// --- checkpoint collection (collect.go) ---

	// CollectTasks caps how many in-domain task instances get a LoRA
	// trajectory, picked round-robin over suites. Default 12.
	CollectTasks int
	// CollectPreSteps / CollectPreLR: the first LoRA phase. Default 16 steps
	// at 3e-3 (paper: 75 steps at 1e-4 on a 0.5B model).
	CollectPreSteps int
	CollectPreLR    float64
	// CollectFineSteps / CollectFineLR: the lower-lr second phase. Default 8
	// steps at 3e-4 (paper: 50 steps at 1e-5).
	CollectFineSteps int
	CollectFineLR    float64
	// CollectBatch: examples per LoRA step. Default 8 (paper: 32).
	CollectBatch int
	// CollectEvery: keep a checkpoint every this many steps. Default 2
	// (paper: every step).
	CollectEvery int
	// CollectWarmup: steps at the start of the pre phase whose checkpoints are
	// not kept (they are still ~the shared init). Default 6.
	CollectWarmup int
	// CollectInitSeed seeds the LoRA init shared by every task: one common
	// starting point makes checkpoints of different tasks comparable, which
	// is what lets a generator regress them. Default 1234.
	CollectInitSeed int64
	// HeldOutEvery: every k-th collected task is held out of generator
	// training and used to report held-out MSE and accuracy. Default 4.
	HeldOutEvery int

	// --- generalization module G (encoder.go, generator.go) ---

	// PromptBatch: prompts per generator input (repeated if fewer). Default
	// 16 (paper: 128).
	PromptBatch int
	// PromptMaxTokens truncates each prompt before encoding. Default 128.
	PromptMaxTokens int
	// PromptPool caps how many of a task's prompts are encoded (a random
	// subset); prompt batches are drawn from it. Default 64.
	PromptPool int
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

	// --- adaptation module π (families.go, policy.go) ---

	// PolicyTasks: in-domain tasks the policy is trained on (preferably not
	// the collected ones, so generated adapters are as fresh as at test
	// time). Default 3.
	PolicyTasks int
	// PolicyIterations: ReST^EM iterations (E-step + M-step). Default 2.
	PolicyIterations int
	// PolicyHypotheses: hypotheses sampled per task and iteration, at least
	// PolicyMinPerFamily of each family. Defaults 10 and 2 (paper: ~20, ≥2).
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
	// Mix: λ grid. Default {0.25, 0.5, 0.75}.
	MixLambdas []float64
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
		CollectPreSteps:  16,
		CollectPreLR:     3e-3,
		CollectFineSteps: 8,
		CollectFineLR:    3e-4,
		CollectBatch:     8,
		CollectEvery:     2,
		CollectWarmup:    6,
		CollectInitSeed:  1234,
		HeldOutEvery:     4,

		PromptBatch:     16,
		PromptMaxTokens: 128,
		PromptPool:      64,
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
		PolicyHypotheses:   10,
		PolicyMinPerFamily: 2,
		PolicyFeatureDim:   8,
		PolicyEpochs:       200,
		PolicyLR:           0.5,
		PolicyL2:           1e-3,
		AdaptTopK:          2,
		SlotMaxPrompts:     32,

		TTTSteps:   []int{2, 5, 10},
		TTTLRs:     []float64{1e-4, 1e-3, 3e-3},
		TTTBatch:   []int{4, 8},
		TTTWD:      0.01,
		TTSSizes:   []int{2, 4, 6},
		MixLambdas: []float64{0.25, 0.5, 0.75},
		SlotSteps:  []int{1, 3, 5},
		SlotLRs:    []float64{1e-3, 1e-2, 1e-1},

		Seed: 7,
	}
}

// withDefaults fills every zero field from DefaultDeGAMLOptions.
func (o DeGAMLOptions) withDefaults() DeGAMLOptions {
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
	}
	if o.CollectInitSeed == 0 {
		o.CollectInitSeed = d.CollectInitSeed
	}
	setI(&o.HeldOutEvery, d.HeldOutEvery)
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
