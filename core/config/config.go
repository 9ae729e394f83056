// Package config loads workbench.toml: the embedded default, overridden by a
// user file. Decoding is strict: an unknown key or a value of the wrong type
// is an error that names the key, the file and the line, because a silently
// ignored typo in an experiment's config is a wrong experiment.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/internal/tomlpos"
	"github.com/degaml/workbench/models"
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

	// origin maps a key the user's file set to its "FILE:LINE".
	origin map[string]string
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
	InnerSteps int   `toml:"inner_steps"`
	Support    int   `toml:"support"`
	Seed       int64 `toml:"seed"`
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
	Sampling     string  `toml:"sampling"` // "dense" | "local" | "auto"
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
	if _, err := decode(&c, defaults, "workbench.toml (embedded)"); err != nil {
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
	data, err := readLimited(user)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return &c, c.Validate()
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	md, err := decode(&c, data, user)
	if err != nil {
		return nil, err
	}
	c.Source = append(c.Source, user)
	c.origin = map[string]string{}
	lines := tomlpos.Scan(data)
	for _, k := range md.Keys() {
		c.origin[k.String()] = fmt.Sprintf("%s:%d", user, lines.Of(k))
	}
	return &c, c.Validate()
}

// MaxFileBytes bounds a config file: a config is a page of settings, and an
// unbounded read of a wrong path (a device, a huge log) would eat memory.
var MaxFileBytes int64 = 1 << 20

// MaxDepth bounds the nesting of arrays, inline tables and dotted keys; the
// TOML decoder's cost explodes on deeply nested input, and no setting nests
// more than three levels.
const MaxDepth = 16

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than the %d-byte limit for a config file (config.MaxFileBytes); is this the right file?", path, MaxFileBytes)
	}
	return data, nil
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

func decode(c *Config, data []byte, file string) (toml.MetaData, error) {
	var md toml.MetaData
	if err := checkEncoding(data, file); err != nil {
		return md, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 BOM is harmless
	if err := checkDepth(data, file); err != nil {
		return md, err
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return md, fmt.Errorf("%s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		// Type errors read "toml: line N (last key "k"): ..."; restate them
		// as FILE:LINE so every config error has the same shape.
		msg := strings.TrimPrefix(err.Error(), "toml: ")
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if n, tail, ok := strings.Cut(rest, " "); ok {
				return md, fmt.Errorf("%s:%s: %s", file, n, plainTypeError(strings.TrimSpace(tail)))
			}
		}
		return md, fmt.Errorf("%s: %s", file, msg)
	}
	if und := md.Undecoded(); len(und) > 0 {
		var msgs []string
		lines := tomlpos.Scan(data)
		var unknown []toml.Key
		for _, k := range und {
			// A misspelt table is one mistake: its keys are not listed again.
			if slices.ContainsFunc(unknown, func(t toml.Key) bool { return len(t) < len(k) && slices.Equal(t, k[:len(t)]) }) {
				continue
			}
			unknown = append(unknown, k)
			msgs = append(msgs, fmt.Sprintf("%s:%d: unknown key %q", file, lines.Of(k), k.String()))
		}
		return md, errors.New(joinBounded(msgs))
	}
	return md, nil
}

// typeError is the decoder's wording of a value of the wrong type.
var typeError = regexp.MustCompile(`^\(last key "([^"]+)"\): incompatible types: TOML value has type (\w+); destination has type (\w+)$`)

// plainTypeError restates `(last key "a.b"): incompatible types: TOML value
// has type string; destination has type integer` as `a.b: want integer, got
// string`, in the words of the other config errors.
func plainTypeError(msg string) string {
	m := typeError.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return fmt.Sprintf("%s: want %s, got %s", m[1], typeWords(m[3]), typeWords(m[2]))
}

// typeWords names a decoder's type as a user would.
func typeWords(t string) string {
	if w, ok := map[string]string{"float64": "a number with a fraction", "float": "a number", "int64": "an integer",
		"integer": "an integer", "string": "a string", "bool": "true or false"}[t]; ok {
		return w
	}
	return t
}

// maxErrorLines bounds how many problems one error lists; the rest are counted.
const maxErrorLines = 20

func joinBounded(msgs []string) string {
	if len(msgs) > maxErrorLines {
		msgs = append(msgs[:maxErrorLines:maxErrorLines], fmt.Sprintf("… and %d more", len(msgs)-maxErrorLines))
	}
	return strings.Join(msgs, "\n")
}

// checkEncoding refuses UTF-16 (a BOM, or the NUL bytes of ASCII text in
// UTF-16), which the TOML decoder would misread as garbage keys.
func checkEncoding(data []byte, file string) error {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return fmt.Errorf("%s:1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8", file)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return fmt.Errorf("%s:%d: NUL byte in the file: is it UTF-16 or binary? save it as UTF-8 text", file, 1+bytes.Count(data[:i], []byte("\n")))
	}
	return nil
}

// checkDepth refuses input nested deeper than MaxDepth (arrays, inline
// tables, dotted keys), looking outside strings and comments only.
func checkDepth(data []byte, file string) error {
	depth, line, dots := 0, 1, 0
	inKey := true // before the line's '=' (or in a [table] header)
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c == '\n':
			line++
			dots, inKey = 0, depth == 0
		case c == '#':
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			end := skipString(data, i)
			line += bytes.Count(data[i:end], []byte("\n"))
			i = end - 1
		case c == '=':
			inKey, dots = false, 0
		case c == '.' && inKey:
			dots++ // a dotted key nests one table per dot
		case c == ',' && depth > 0:
			inKey, dots = true, 0 // the next key of an inline table (or a value: no dots there)
		case c == '{':
			inKey, dots = true, 0
			depth++
		case c == '[':
			depth++
		case c == ']' || c == '}':
			depth = max(depth-1, 0)
		}
		// A [[table]] header opens two brackets at depth zero.
		if dots >= MaxDepth || depth > MaxDepth+1 {
			return fmt.Errorf("%s:%d: nested more than %d levels deep (config.MaxDepth); no setting needs that", file, line, MaxDepth)
		}
	}
	return nil
}

// skipString returns the index just past the string starting at data[i]
// (basic or literal, single- or multi-line); an unterminated string runs to
// the end of its line (the decoder reports it).
func skipString(data []byte, i int) int {
	q := data[i]
	if bytes.HasPrefix(data[i:], []byte{q, q, q}) {
		end := bytes.Index(data[i+3:], []byte{q, q, q})
		if end < 0 {
			return len(data)
		}
		return i + 3 + end + 3
	}
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			if q == '"' {
				j++
			}
		case q:
			return j + 1
		case '\n':
			return j
		}
	}
	return len(data)
}

// Validate checks values that decode fine but make no sense. Every numeric
// setting has a rule in bounds (core/api's contract); an error names the key,
// and the file and line when the user's file set it.
func (c *Config) Validate() error {
	var errs []string
	bad := func(key, why string) {
		where := "config"
		if o := c.origin[key]; o != "" {
			where = o
		}
		errs = append(errs, fmt.Sprintf("%s: %s: %s", where, key, why))
	}
	walkNumbers(reflect.ValueOf(c).Elem(), "", func(key string, v float64) {
		b, ok := bounds[key]
		if !ok {
			bad(key, "no validation rule for this setting (a bug: add it to config.bounds)")
			return
		}
		if err := b.Check(v); err != nil {
			var fe *api.FieldError
			if errors.As(err, &fe) {
				bad(key, fe.Value+": "+fe.Why)
			}
		}
	})
	if c.Serve.IdleTimeout.Duration < 0 {
		bad("serve.idle_timeout", "must not be negative")
	}
	if len(c.LoRA.Targets) == 0 {
		bad("lora.targets", "needs at least one module")
	}
	for _, t := range c.LoRA.Targets {
		if valid := models.LoRATargets(); !slices.Contains(valid, t) {
			bad("lora.targets", fmt.Sprintf("unknown module %q (want %s)", t, strings.Join(valid, " ")))
		}
	}
	if c.Model.Preset == "" && c.Model.HFDir == "" {
		bad("model", "set preset or hf_dir")
	}
	if c.Bench.Preset != "quick" && c.Bench.Preset != "paper" {
		bad("bench.preset", fmt.Sprintf("%q: want \"quick\" or \"paper\"", c.Bench.Preset))
	}
	if len(errs) > 0 {
		return errors.New(joinBounded(errs))
	}
	return nil
}

// walkNumbers calls f for every int and float field of v (a struct), keyed
// by its dotted TOML name.
func walkNumbers(v reflect.Value, prefix string, f func(key string, v float64)) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		key := prefix + name
		fv := v.Field(i)
		switch fv.Kind() {
		case reflect.Struct:
			if fv.Type() != reflect.TypeFor[Duration]() {
				walkNumbers(fv, key+".", f)
			}
		case reflect.Int, reflect.Int64, reflect.Int32:
			f(key, float64(fv.Int()))
		case reflect.Float64, reflect.Float32:
			f(key, fv.Float())
		}
	}
}

// bounds is the rule of every numeric setting. [adapt] shares the knobs'
// rules (the TUI's form starts from it); a method budget's 0 means "the
// method's default", so those accept 0.
var bounds = func() map[string]api.Bound {
	steps := api.Bound{Min: 1, Max: 1e7, Int: true}
	count := api.Bound{Min: 1, Max: 1 << 16, Int: true}
	lr := api.Bound{Min: 0, MinExclusive: true, Max: 1}
	nonneg := api.Bound{Min: 0, Max: 1e6}
	m := map[string]api.Bound{
		"lora.rank":                api.RankBound.Strict(),
		"lora.alpha":               {Min: 0, MinExclusive: true, Max: 1e4},
		"pipeline.pretrain_steps":  steps,
		"pipeline.pretrain_lr":     lr,
		"pipeline.pretrain_batch":  {Min: 1, Max: 4096, Int: true},
		"pipeline.train_instances": {Min: 1, Max: 500, Int: true}, // in-domain instances are 0..499
		"adapt.inner_steps":        api.InnerStepsBound,
		"adapt.support":            api.SupportBound,
		"adapt.seed":               api.SeedBound,
		"bench.seeds":              {Min: 1, Max: 1000, Int: true},
		"serve.max_sessions":       {Min: 1, Max: 4096, Int: true},
		"serve.workers":            {Min: 1, Max: 256, Int: true},
	}
	zd := func(b api.Bound) api.Bound { b.ZeroDefault = true; return b }
	for _, t := range []string{"nometa-lora", "union-lora"} {
		m["methods."+t+".steps"] = zd(steps)
		m["methods."+t+".lr"] = zd(lr)
		m["methods."+t+".batch"] = zd(count)
	}
	for _, t := range []string{"maml-en-llm", "abmll"} {
		for _, k := range []string{"meta_steps", "inner_steps"} {
			m["methods."+t+"."+k] = zd(steps)
		}
		m["methods."+t+".tasks_per_step"] = zd(count)
		m["methods."+t+".inner_lr"] = zd(lr)
		m["methods."+t+".outer_lr"] = zd(lr)
	}
	m["methods.maml-en-llm.support"] = zd(count)
	m["methods.maml-en-llm.query"] = zd(count)
	m["methods.abmll.task_fidelity"] = nonneg
	m["methods.abmll.global_reg"] = nonneg
	m["methods.abmll.samples"] = zd(count)
	for _, k := range []string{"collect_tasks", "prompt_batch", "policy_tasks", "policy_iterations", "policy_hypotheses", "adapt_top_k"} {
		m["methods.degaml."+k] = zd(count)
	}
	for _, k := range []string{"collect_pre_steps", "collect_fine_steps", "gen_steps"} {
		m["methods.degaml."+k] = zd(steps)
	}
	for _, k := range []string{"collect_pre_lr", "collect_fine_lr", "gen_lr"} {
		m["methods.degaml."+k] = zd(lr)
	}
	for k, b := range m {
		m[k] = b.Named(k)
	}
	return m
}()
