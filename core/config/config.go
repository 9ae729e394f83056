// Package config loads workbench.toml: the embedded default, overridden by a
// user file. Decoding is strict: an unknown key or a value of the wrong type
// is an error that names the key, the file and the line, because a silently
// ignored typo in an experiment's config is a wrong experiment.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the whole configuration. Every feature reads its settings here.
type Config struct {
	Engine   Engine   `toml:"engine"`
	Model    Model    `toml:"model"`
	LoRA     LoRA     `toml:"lora"`
	Pipeline Pipeline `toml:"pipeline"`
	Adapt    Adapt    `toml:"adapt"`
	Methods  Methods  `toml:"methods"`
	Bench    Bench    `toml:"bench"`
	TUI      TUI      `toml:"tui"`
	Serve    Serve    `toml:"serve"`

	// Source lists the files this config was read from, in order.
	Source []string `toml:"-"`
}

// Engine selects the compute backend.
type Engine struct {
	// Backend is a GoMLX backend config, e.g. "go:parallelism=-1" or
	// "xla:/abs/path/plugin.so" (binary built with -tags xla).
	Backend string `toml:"backend"`
}

// Model selects the base model.
type Model struct {
	Preset string `toml:"preset"` // built-in preset trained from scratch ("nano-word", "nano", "micro")
	HFDir  string `toml:"hf_dir"` // a local HF checkpoint directory; overrides Preset when set
}

// LoRA is the adapter shape shared by every method.
type LoRA struct {
	Rank    int      `toml:"rank"`
	Alpha   float64  `toml:"alpha"`
	RSLoRA  bool     `toml:"rslora"`
	Targets []string `toml:"targets"`
}

// Pipeline holds the budgets of the background pipeline stages.
type Pipeline struct {
	Workdir        string  `toml:"workdir"` // "" = user cache directory
	PretrainSteps  int     `toml:"pretrain_steps"`
	PretrainLR     float64 `toml:"pretrain_lr"`
	PretrainBatch  int     `toml:"pretrain_batch"`
	TrainInstances int     `toml:"train_instances"` // task instances per in-domain suite used for meta-training
}

// Adapt holds the per-task adaptation defaults (the TUI's knobs start here).
type Adapt struct {
	InnerSteps int     `toml:"inner_steps"`
	LR         float64 `toml:"lr"`
	Support    int     `toml:"support"`
	Seed       int64   `toml:"seed"`
}

// Methods holds each method's budget. A key left out (zero) takes the
// method's documented default (core/meta), so the file only needs what a user
// changes.
type Methods struct {
	NoMeta LoRATrain `toml:"nometa-lora"`
	Union  LoRATrain `toml:"union-lora"`
	MAML   MAML      `toml:"maml-en-llm"`
	ABMLL  ABMLL     `toml:"abmll"`
	DeGAML DeGAML    `toml:"degaml"`
}

// LoRATrain budgets a plain supervised LoRA run.
type LoRATrain struct {
	Steps int     `toml:"steps"`
	LR    float64 `toml:"lr"`
	Batch int     `toml:"batch"`
}

// MAML budgets maml-en-llm.
type MAML struct {
	MetaSteps    int     `toml:"meta_steps"`
	TasksPerStep int     `toml:"tasks_per_step"`
	InnerSteps   int     `toml:"inner_steps"`
	InnerLR      float64 `toml:"inner_lr"`
	OuterLR      float64 `toml:"outer_lr"`
	Support      int     `toml:"support"`
	Query        int     `toml:"query"`
	FirstOrder   bool    `toml:"first_order"`
	InnerOpt     string  `toml:"inner_opt"` // "adam-shared" | "sgd"
}

// ABMLL budgets abmll.
type ABMLL struct {
	MetaSteps    int     `toml:"meta_steps"`
	TasksPerStep int     `toml:"tasks_per_step"`
	InnerSteps   int     `toml:"inner_steps"`
	InnerLR      float64 `toml:"inner_lr"`
	OuterLR      float64 `toml:"outer_lr"`
	TaskFidelity float64 `toml:"task_fidelity"`
	GlobalReg    float64 `toml:"global_reg"`
	Predict      string  `toml:"predict"` // "mean" | "mc"
	Samples      int     `toml:"samples"`
}

// DeGAML budgets the generalization and adaptation modules.
type DeGAML struct {
	CollectTasks     int     `toml:"collect_tasks"`
	CollectPreSteps  int     `toml:"collect_pre_steps"`
	CollectPreLR     float64 `toml:"collect_pre_lr"`
	CollectFineSteps int     `toml:"collect_fine_steps"`
	CollectFineLR    float64 `toml:"collect_fine_lr"`
	PromptBatch      int     `toml:"prompt_batch"`
	GenSteps         int     `toml:"gen_steps"`
	GenLR            float64 `toml:"gen_lr"`
	PolicyTasks      int     `toml:"policy_tasks"`
	PolicyIterations int     `toml:"policy_iterations"`
	PolicyHypotheses int     `toml:"policy_hypotheses"`
	AdaptTopK        int     `toml:"adapt_top_k"`
	GenDecoder       string  `toml:"gen_decoder"` // "ridge" | "hc"
	GenSelect        string  `toml:"gen_select"`  // "accuracy" | "mse" (ridge λ)
	Embed            string  `toml:"embed"`       // "bow" | "hidden" | "bow+hidden"
	MixMode          string  `toml:"mix_mode"`    // "delta" | "factors"
}

// Bench configures `workbench bench`.
type Bench struct {
	Preset  string   `toml:"preset"` // "quick" | "paper"
	Seeds   int      `toml:"seeds"`
	Methods []string `toml:"methods"`
}

// TUI configures the terminal UI.
type TUI struct {
	Theme string `toml:"theme"` // built-in name or path to a TOML theme
	Mouse bool   `toml:"mouse"`
}

// Serve configures `workbench serve`.
type Serve struct {
	Listen         string   `toml:"listen"`
	HostKey        string   `toml:"host_key"`
	AuthorizedKeys string   `toml:"authorized_keys"`
	AllowAnyKey    bool     `toml:"allow_any_key"`
	MaxSessions    int      `toml:"max_sessions"`
	IdleTimeout    Duration `toml:"idle_timeout"`
	Workers        int      `toml:"workers"`
}

// Duration is a time.Duration written as "15m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("bad duration %q (use e.g. \"90s\", \"15m\")", b)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Load decodes the embedded defaults, then the user's file on top. path is
// the --config flag ("" = look for ./workbench.toml, then the user config
// directory). A missing default file location is fine; a missing explicit
// --config file is an error.
func Load(defaults []byte, path string) (*Config, error) {
	var c Config
	if err := decode(&c, defaults, "workbench.toml (embedded)"); err != nil {
		return nil, err
	}
	c.Source = []string{"(embedded)"}
	user, explicit := path, path != ""
	if !explicit {
		user = findUserFile()
	}
	if user == "" {
		return &c, c.Validate()
	}
	data, err := os.ReadFile(user)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return &c, c.Validate()
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := decode(&c, data, user); err != nil {
		return nil, err
	}
	c.Source = append(c.Source, user)
	return &c, c.Validate()
}

// UserPath is where a per-user config lives.
func UserPath() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "degaml-workbench", "workbench.toml")
}

func findUserFile() string {
	if _, err := os.Stat("workbench.toml"); err == nil {
		return "workbench.toml"
	}
	if p := UserPath(); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func decode(c *Config, data []byte, file string) error {
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		// Type errors read "toml: line N (last key "k"): ..."; restate them
		// as FILE:LINE so every config error has the same shape.
		msg := strings.TrimPrefix(err.Error(), "toml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, tail, ok := strings.Cut(rest, " "); ok {
				return fmt.Errorf("%s:%s: %s", file, n, strings.TrimSpace(tail))
			}
		}
		return fmt.Errorf("%s: %s", file, msg)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var msgs []string
		for _, k := range und {
			msgs = append(msgs, fmt.Sprintf("%s:%d: unknown key %q", file, keyLine(data, k), k.String()))
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	return nil
}

// keyLine finds the line that defines a dotted key, for error messages
// (BurntSushi/toml keeps key positions private).
func keyLine(data []byte, k toml.Key) int {
	table, last := strings.Join(k[:len(k)-1], "."), k[len(k)-1]
	cur, line := "", 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(s, "[") {
			cur = strings.Trim(s, "[] ")
			if i := strings.Index(cur, "#"); i >= 0 {
				cur = strings.TrimSpace(strings.Trim(cur[:i], "[] "))
			}
			if cur == k.String() {
				return line // an unknown table
			}
			continue
		}
		name, _, ok := strings.Cut(s, "=")
		if ok && cur == table && strings.Trim(strings.TrimSpace(name), `"'`) == last {
			return line
		}
	}
	return 0
}

// Validate checks values that decode fine but make no sense.
func (c *Config) Validate() error {
	var errs []string
	bad := func(key, why string) { errs = append(errs, fmt.Sprintf("config: %s: %s", key, why)) }
	if c.LoRA.Rank <= 0 {
		bad("lora.rank", "must be positive")
	}
	if c.LoRA.Alpha <= 0 {
		bad("lora.alpha", "must be positive")
	}
	valid := map[string]bool{"q_proj": true, "k_proj": true, "v_proj": true, "o_proj": true, "gate_proj": true, "up_proj": true, "down_proj": true}
	if len(c.LoRA.Targets) == 0 {
		bad("lora.targets", "needs at least one module")
	}
	for _, t := range c.LoRA.Targets {
		if !valid[t] {
			bad("lora.targets", fmt.Sprintf("unknown module %q (want q_proj k_proj v_proj o_proj gate_proj up_proj down_proj)", t))
		}
	}
	if c.Model.Preset == "" && c.Model.HFDir == "" {
		bad("model", "set preset or hf_dir")
	}
	if c.Adapt.InnerSteps < 0 || c.Adapt.Support < 0 || c.Adapt.LR < 0 {
		bad("adapt", "inner_steps, support and lr must not be negative")
	}
	if c.Bench.Preset != "quick" && c.Bench.Preset != "paper" {
		bad("bench.preset", fmt.Sprintf("%q: want \"quick\" or \"paper\"", c.Bench.Preset))
	}
	if c.Bench.Seeds < 1 {
		bad("bench.seeds", "must be at least 1")
	}
	if c.Serve.MaxSessions < 1 || c.Serve.Workers < 1 {
		bad("serve", "max_sessions and workers must be at least 1")
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	return nil
}
