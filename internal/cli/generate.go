package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/spf13/cobra"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/engine"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
)

// generateOptions are `workbench generate`'s flags.
type generateOptions struct {
	model, adapter, prompt, promptIDs, backend  string
	random, greedy, stopEOS, truncateLeft, json bool
	maxNew, topK                                int
	temperature, topP                           float64
	seed                                        uint64
}

// newGenerateCmd is
//
//	workbench generate --model DIR|PRESET [--adapter DIR] (--prompt TEXT | --prompt-ids 1,2,3) --max-new N
//	                   [--greedy | --temperature T --top-k K --top-p P --seed S] [--stop-eos] [--json]
//
// With --json it prints {"ids":[new ids...],"text":"..."}; otherwise it streams the text as it is generated.
// Greedy decoding does not stop at EOS unless --stop-eos is given (so it matches HF's greedy reference).
func newGenerateCmd(a *app) *cobra.Command {
	var o generateOptions
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "continue a prompt with a model: --model DIR|PRESET (--prompt TEXT | --prompt-ids 1,2) --max-new N [--greedy] [--json]",
		Args:  noArgs("generate: unexpected argument %q"),
		RunE:  func(*cobra.Command, []string) error { return a.generate(&o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.model, "model", "", "HF model `directory`, workbench checkpoint directory, or preset name (nano, micro: the base the pipeline trained in --workdir)")
	fs.BoolVar(&o.random, "random", false, "with a preset --model: random weights instead of the trained base (for testing the decoder)")
	fs.StringVar(&o.adapter, "adapter", "", "PEFT LoRA adapter directory")
	fs.StringVar(&o.prompt, "prompt", "", "prompt text")
	fs.StringVar(&o.promptIDs, "prompt-ids", "", "prompt as comma-separated token ids")
	fs.IntVar(&o.maxNew, "max-new", 32, "maximum number of new tokens")
	fs.BoolVar(&o.greedy, "greedy", false, "greedy decoding (arg-max)")
	fs.Float64Var(&o.temperature, "temperature", 1, "sampling temperature (ignored with --greedy)")
	fs.IntVar(&o.topK, "top-k", 0, "top-k filter (0 = off)")
	fs.Float64Var(&o.topP, "top-p", 1, "nucleus filter (1 = off)")
	fs.Uint64Var(&o.seed, "seed", 0, "sampling seed (and weight seed for presets)")
	fs.BoolVar(&o.stopEOS, "stop-eos", false, "stop at the EOS token")
	fs.BoolVar(&o.truncateLeft, "truncate-left", false, "keep the last tokens of a prompt longer than the context instead of failing")
	fs.BoolVar(&o.json, "json", false, `print {"ids":[...],"text":"..."}`)
	fs.StringVar(&o.backend, "backend", "", "GoMLX backend (default: $GOMLX_BACKEND, then go)")
	return cmd
}

func (a *app) generate(o *generateOptions) error {
	stdout := a.stdout
	if o.model == "" {
		return errors.New("generate: --model is required")
	}
	if (o.prompt == "") == (o.promptIDs == "") {
		return errors.New("generate: give exactly one of --prompt and --prompt-ids")
	}
	// Sampling settings are checked even with --greedy: a typo there is
	// still a typo, and silently ignoring it hides it.
	if err := errors.Join(api.MaxNewBound.CheckInt(int64(o.maxNew)), api.TemperatureBound.Check(o.temperature),
		api.TopPBound.Check(o.topP), api.TopKBound.CheckInt(int64(o.topK))); err != nil {
		return flagError("generate", err)
	}
	arg := o.model
	if _, isPreset := presetArg(arg); isPreset && !o.random {
		// A preset means the base the pipeline pretrained (random weights
		// generate noise); say how to get one when there is none yet.
		dir, err := a.trainedBaseArg(arg)
		if err != nil {
			return err
		}
		arg = dir
	}
	be, err := engine.New(o.backend) // keeps the go backend's start-up line off stdout (--json)
	if err != nil {
		return err
	}
	m, err := loadModelArg(arg, int64(o.seed), be)
	if err != nil {
		return err
	}
	if p, perr := models.PresetByName(o.model); perr == nil && arg != o.model && m.Tokenizer == nil {
		// A trained base's checkpoint names only the byte tokenizer; the
		// word preset's vocabulary comes from the built-in suites.
		if m.Tokenizer, err = pipeline.PresetTokenizer(p); err != nil {
			return err
		}
	}
	var ids []int
	if o.promptIDs != "" {
		for _, f := range strings.Split(o.promptIDs, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("generate: --prompt-ids: %q is not an integer", f)
			}
			if v < 0 || v >= m.Config.VocabSize {
				return fmt.Errorf("generate: --prompt-ids: id %d outside the vocabulary (size %d)", v, m.Config.VocabSize)
			}
			ids = append(ids, v)
		}
	} else {
		if m.Tokenizer == nil {
			return fmt.Errorf("generate: %s has no tokenizer; use --prompt-ids", o.model)
		}
		// The word tokenizer maps unknown words to <unk>: refuse them, as chat
		// does, instead of continuing a prompt the model cannot read.
		if wt, ok := m.Tokenizer.(*tokenizer.Word); ok {
			if u := wt.Unknown(o.prompt); len(u) > 0 {
				return fmt.Errorf("generate: %s reads only its %d words; not among them: %s (`workbench tokenize --model %s` shows the ids)",
					o.model, len(wt.Words()), strings.Join(u, ", "), o.model)
			}
		}
		ids = m.Tokenizer.Encode(o.prompt)
		if len(ids) == 0 {
			return errors.New("generate: the prompt encodes to no tokens")
		}
	}
	opt := models.GenerateOptions{MaxNew: o.maxNew, Greedy: o.greedy, Temperature: o.temperature, TopK: o.topK, TopP: o.topP,
		Seed: o.seed, StopEOS: o.stopEOS, TruncateLeft: o.truncateLeft}
	if o.adapter != "" {
		if opt.Adapter, err = models.LoadPEFT(o.adapter); err != nil {
			return err
		}
		if err := opt.Adapter.Validate(m.Config); err != nil {
			return fmt.Errorf("generate: adapter %s does not fit the model: %w", o.adapter, err)
		}
	}
	if !o.json {
		opt.OnToken = func(_ int, text string) bool {
			io.WriteString(stdout, text)
			return true
		}
	}
	ctx, cancel := interruptible()
	defer cancel()
	res, err := models.NewGenerator(be, m).Generate(ctx, ids, opt)
	if err != nil && ctx.Err() != nil {
		return errors.New("generate: interrupted")
	}
	if err != nil {
		return err
	}
	if o.json {
		out := struct {
			IDs        []int  `json:"ids"`
			Text       string `json:"text"`
			StopReason string `json:"stop_reason"`
		}{res.IDs, res.Text, res.StopReason}
		if out.IDs == nil {
			out.IDs = []int{}
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	_, err = io.WriteString(stdout, "\n")
	return err
}

// presetArg reports whether arg names a preset (and no directory of that name exists).
func presetArg(arg string) (models.Config, bool) {
	cfg, err := models.PresetConfig(arg)
	if err != nil {
		return cfg, false
	}
	_, statErr := os.Stat(arg)
	return cfg, statErr != nil
}

// trainedBaseArg finds the base model the pipeline pretrained for preset
// under the flags' config and work dir.
func (a *app) trainedBaseArg(preset string) (string, error) {
	cfg, err := a.load()
	if err != nil {
		return "", err
	}
	cfg.Model.Preset = preset
	dir, ok, err := pipeline.TrainedBase(cfg, a.workdir)
	if err != nil {
		return "", err
	}
	if !ok {
		wd := ""
		if a.workdir != "" {
			wd = " --workdir " + a.workdir
		}
		return "", fmt.Errorf("generate: no trained %s base in the work dir yet (looked for %s); "+
			"pretrain one with `workbench run --task math-mc --method base%s` (or open the TUI), "+
			"or pass --random for random weights", preset, dir, wd)
	}
	return dir, nil
}

// loadModelArg resolves --model: a preset name (random weights from seed, the preset's tokenizer), a workbench
// checkpoint directory (manifest.json) or a Hugging Face directory (config.json). A Hugging Face model's weights
// are loaded straight into be's memory (no second copy); be may be nil.
func loadModelArg(arg string, seed int64, be compute.Backend) (*models.Model, error) {
	if p, err := models.PresetByName(arg); err == nil {
		if _, statErr := os.Stat(arg); statErr != nil { // a directory named like a preset wins
			tok, err := pipeline.PresetTokenizer(p)
			if err != nil {
				return nil, err
			}
			return &models.Model{Config: p.Config, Params: models.NewRandom(p.Config, seed), Tokenizer: tok}, nil
		}
	}
	// A checkpoint, or the ".old" copy an interrupted save left (LoadCheckpoint recovers it).
	for _, d := range []string{arg, filepath.Clean(arg) + ".old"} {
		if _, err := os.Stat(filepath.Join(d, models.CheckpointManifest)); err == nil {
			return models.LoadCheckpointModel(arg)
		}
	}
	if _, err := os.Stat(filepath.Join(arg, "config.json")); err == nil {
		return models.LoadHFWith(arg, models.LoadOptions{Backend: be})
	}
	names := []string{}
	for _, p := range models.Presets() {
		names = append(names, p.Name)
	}
	return nil, fmt.Errorf("model %q is neither a preset (%s), a checkpoint directory nor a Hugging Face directory",
		arg, strings.Join(names, ", "))
}
