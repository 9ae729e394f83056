package models

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func TestParseHFConfigReference(t *testing.T) {
	dir := testref.Dir(t)
	q, err := LoadHFConfig(filepath.Join(dir, "tiny-qwen2", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Arch: "qwen2", VocabSize: 461, HiddenSize: 64, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16,
		IntermediateSize: 176, MaxPositions: 256, RopeTheta: 1e4, RMSNormEps: 1e-6, QKVBias: true, TieEmbeddings: true,
		BOSTokenID: -1, EOSTokenID: 2}
	if q != want {
		t.Errorf("qwen2 config\n got %+v\nwant %+v", q, want)
	}
	l, err := LoadHFConfig(filepath.Join(dir, "tiny-llama", "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want.Arch, want.RopeTheta, want.QKVBias, want.TieEmbeddings = "llama", 5e5, false, false
	if l != want {
		t.Errorf("llama config\n got %+v\nwant %+v", l, want)
	}
}

const baseConfigJSON = `{"model_type":"llama","vocab_size":100,"hidden_size":32,"num_hidden_layers":1,
"num_attention_heads":4,"intermediate_size":64,"max_position_embeddings":128,"rms_norm_eps":1e-5`

func TestParseHFConfigVariants(t *testing.T) {
	c, err := ParseHFConfig([]byte(baseConfigJSON+`,"rope_theta":1000,"eos_token_id":[7,8],"bos_token_id":null}`), "x.json")
	if err != nil {
		t.Fatal(err)
	}
	if c.RopeTheta != 1000 || c.EOSTokenID != 7 || c.BOSTokenID != -1 || c.HeadDim != 8 || c.NumKVHeads != 4 || c.TieEmbeddings {
		t.Errorf("defaults/legacy keys: %+v", c)
	}
	bad := map[string]string{
		`{"model_type":"gpt2"}`:                                                 "not supported",
		baseConfigJSON + `,"hidden_size":"32"}`:                                 "must be an integer",
		baseConfigJSON + `,"num_key_value_heads":3}`:                            "not a multiple",
		baseConfigJSON + `,"rope_scaling":{"type":"linear"}}`:                   "rope_scaling",
		baseConfigJSON + `,"rope_parameters":{"rope_type":"yarn"}}`:             "rope_type",
		baseConfigJSON + `,"attention_bias":true}`:                              "attention_bias",
		baseConfigJSON + `,"hidden_act":"gelu"}`:                                "hidden_act",
		baseConfigJSON + `,"eos_token_id":100}`:                                 "outside the vocabulary",
		baseConfigJSON + `,"vocab_size":1.5}`:                                   "not a 32-bit integer",
		strings.Replace(baseConfigJSON, `"intermediate_size":64,`, "", 1) + "}": "missing required key intermediate_size",
		`[1,2]`: "invalid JSON",
		`null`:  "want a JSON object",
	}
	for in, want := range bad {
		_, err := ParseHFConfig([]byte(in), "cfg.json")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "cfg.json: ") {
			t.Errorf("%s:\n err = %v, want it to name the file and contain %q", in, err, want)
		}
	}
}

func FuzzParseHFConfig(f *testing.F) {
	f.Add([]byte(baseConfigJSON + "}"))
	f.Add([]byte(baseConfigJSON + `,"rope_parameters":{"rope_theta":1e30},"head_dim":null}`))
	f.Add([]byte(`{"model_type":"qwen2","eos_token_id":[]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"model_type":"llama","num_attention_heads":0,"hidden_size":-5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseHFConfig(data, "fuzz.json")
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("accepted an invalid config: %v", verr)
			}
			_ = ParamShapes(c) // must not panic on anything accepted
		}
	})
}

// writeModelDir writes config.json + model.safetensors from p into a temp dir (tokenizer-less).
func writeModelDir(t *testing.T, configSrc string, p map[string]safetensors.Tensor) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(configSrc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if p != nil {
		if err := safetensors.Write(filepath.Join(dir, "model.safetensors"), p, map[string]string{"format": "pt"}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadHFErrorsAndShards(t *testing.T) {
	ref := testref.Dir(t)
	src := filepath.Join(ref, "tiny-qwen2")
	orig, _, err := safetensors.ReadFile(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	clone := func() map[string]safetensors.Tensor {
		out := map[string]safetensors.Tensor{}
		for k, v := range orig {
			out[k] = v
		}
		return out
	}
	cases := map[string]func(m map[string]safetensors.Tensor){
		`missing tensor "model.layers.1.self_attn.q_proj.bias"`: func(m map[string]safetensors.Tensor) {
			delete(m, "model.layers.1.self_attn.q_proj.bias")
		},
		`unexpected tensor "model.layers.2.mlp.up_proj.weight"`: func(m map[string]safetensors.Tensor) {
			m["model.layers.2.mlp.up_proj.weight"] = m["model.layers.1.mlp.up_proj.weight"]
		},
		`tensor "model.norm.weight" has shape [32 2], want [64]`: func(m map[string]safetensors.Tensor) {
			v := m["model.norm.weight"]
			m["model.norm.weight"] = safetensors.Tensor{DType: "F32", Shape: []int{32, 2}, F32: v.F32}
		},
	}
	for want, mutate := range cases {
		m := clone()
		mutate(m)
		_, err := LoadHF(writeModelDir(t, filepath.Join(src, "config.json"), m))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}

	// Tied model with a redundant lm_head copy loads (the copy is ignored).
	m := clone()
	m["lm_head.weight"] = m["model.embed_tokens.weight"]
	if _, err := LoadHF(writeModelDir(t, filepath.Join(src, "config.json"), m)); err != nil {
		t.Errorf("tied model with lm_head copy: %v", err)
	}

	// Two shards + index give the same weights as the single file.
	dir := writeModelDir(t, filepath.Join(src, "config.json"), nil)
	shards := []map[string]safetensors.Tensor{{}, {}}
	index := map[string]string{}
	for i, n := range sortedKeys(orig) {
		file := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i%2]
		shards[i%2][n] = orig[n]
		index[n] = file
	}
	for i, s := range shards {
		file := []string{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}[i]
		if err := safetensors.Write(filepath.Join(dir, file), s, nil); err != nil {
			t.Fatal(err)
		}
	}
	idx, _ := json.Marshal(map[string]any{"metadata": map[string]any{}, "weight_map": index})
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644); err != nil {
		t.Fatal(err)
	}
	sharded, err := LoadHF(dir)
	if err != nil {
		t.Fatal(err)
	}
	single, err := LoadHF(src)
	if err != nil {
		t.Fatal(err)
	}
	if single.Tokenizer == nil || sharded.Tokenizer != nil {
		t.Errorf("tokenizer presence: single %v, sharded %v", single.Tokenizer != nil, sharded.Tokenizer != nil)
	}
	for _, n := range single.Params.Names() {
		if !slices.Equal(single.Params.Float32s(n), sharded.Params.Float32s(n)) {
			t.Errorf("sharded %s differs", n)
		}
	}
	// An index pointing outside the directory is refused.
	index["model.norm.weight"] = "../evil.safetensors"
	idx, _ = json.Marshal(map[string]any{"weight_map": index})
	_ = os.WriteFile(filepath.Join(dir, "model.safetensors.index.json"), idx, 0o644)
	if _, err := LoadHF(dir); err == nil || !strings.Contains(err.Error(), "invalid shard file name") {
		t.Errorf("path traversal: err = %v", err)
	}
}

func TestPEFTRoundTripAndNames(t *testing.T) {
	ref := testref.Dir(t)
	a, err := LoadPEFT(filepath.Join(ref, "tiny-llama-lora"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Config.Rank != 4 || a.Config.Alpha != 8 || a.Config.Scale() != 2 || !slices.Equal(a.Config.Targets, loraTargets) {
		t.Errorf("config %+v", a.Config)
	}
	// param_names.json is the reference mapping between PEFT names and the names used in reference.safetensors.
	var mapping []struct {
		PeftParam string `json:"peft_param"`
		SavedAs   string `json:"saved_as"`
		Shape     []int  `json:"shape"`
	}
	data, err := os.ReadFile(filepath.Join(ref, "tiny-llama-lora", "param_names.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &mapping); err != nil {
		t.Fatal(err)
	}
	if len(mapping) != len(a.Params) {
		t.Fatalf("%d mapped names, adapter has %d", len(mapping), len(a.Params))
	}
	for _, m := range mapping {
		name := strings.TrimSuffix(m.SavedAs, ".weight")
		if got, ok := adapterName(m.PeftParam); !ok || got != name {
			t.Errorf("adapterName(%q) = %q", m.PeftParam, got)
		}
		if PEFTName(name) != "base_model.model."+m.SavedAs {
			t.Errorf("PEFTName(%q) = %q", name, PEFTName(name))
		}
		if tt := a.Params[name]; tt == nil || !slices.Equal(tt.Shape().Dimensions, m.Shape) {
			t.Errorf("%s missing or misshaped", name)
		}
	}

	dir := t.TempDir()
	if err := a.SavePEFT(dir); err != nil {
		t.Fatal(err)
	}
	b, err := LoadPEFT(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Config.Rank != a.Config.Rank || b.Config.Alpha != a.Config.Alpha || b.Config.RSLoRA != a.Config.RSLoRA || !slices.Equal(b.Config.Targets, a.Config.Targets) {
		t.Errorf("config after reload %+v, want %+v", b.Config, a.Config)
	}
	if !slices.Equal(a.Params.Names(), b.Params.Names()) {
		t.Fatal("names differ after reload")
	}
	for _, n := range a.Params.Names() {
		x, y := a.Params.Float32s(n), b.Params.Float32s(n)
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				t.Fatalf("%s[%d]: %v != %v after reload", n, i, x[i], y[i])
			}
		}
	}

	// Unsupported options and foreign tensors are refused.
	cfgJSON, _ := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	var cfgMap map[string]any
	_ = json.Unmarshal(cfgJSON, &cfgMap)
	cfgMap["use_dora"] = true
	cfgJSON, _ = json.Marshal(cfgMap)
	_ = os.WriteFile(filepath.Join(dir, "adapter_config.json"), cfgJSON, 0o644)
	if _, err := LoadPEFT(dir); err == nil || !strings.Contains(err.Error(), "use_dora") {
		t.Errorf("dora: err = %v", err)
	}
}

func TestAdapterHelpers(t *testing.T) {
	cfg := Config{Arch: "llama", VocabSize: 50, HiddenSize: 16, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 4,
		IntermediateSize: 24, MaxPositions: 32, RopeTheta: 1e4, RMSNormEps: 1e-6, BOSTokenID: -1, EOSTokenID: -1}
	l := LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"q_proj", "v_proj", "down_proj"}}
	if l.Scale() != 2 {
		t.Errorf("scale %v", l.Scale())
	}
	if rs := (LoRAConfig{Rank: 4, Alpha: 8, RSLoRA: true}).Scale(); rs != 4 {
		t.Errorf("rslora scale %v", rs)
	}
	shapes := AdapterShapes(cfg, l)
	if len(shapes) != 12 || !slices.Equal(shapes["model.layers.1.self_attn.v_proj.lora_B"], []int{8, 4}) ||
		!slices.Equal(shapes["model.layers.0.mlp.down_proj.lora_A"], []int{4, 24}) {
		t.Errorf("shapes %v", shapes)
	}
	a := NewAdapter(cfg, l, 1)
	if err := a.Validate(cfg); err != nil {
		t.Fatal(err)
	}
	for _, n := range a.Params.Names() {
		v := a.Params.Float32s(n)
		bound := 1 / math.Sqrt(float64(a.Params[n].Shape().Dimensions[1]))
		for _, x := range v {
			if strings.HasSuffix(n, "lora_B") && x != 0 || math.Abs(float64(x)) > bound {
				t.Fatalf("%s: value %v violates PEFT init", n, x)
			}
		}
	}
	b := NewAdapter(cfg, l, 2)
	if slices.Equal(a.Params.Float32s("model.layers.0.self_attn.q_proj.lora_A"), b.Params.Float32s("model.layers.0.self_attn.q_proj.lora_A")) {
		t.Error("different seeds gave identical adapters")
	}
	if again := NewAdapter(cfg, l, 1); !slices.Equal(a.Params.Float32s("model.layers.1.mlp.down_proj.lora_A"), again.Params.Float32s("model.layers.1.mlp.down_proj.lora_A")) {
		t.Error("same seed is not reproducible")
	}
	mixed := Mix(a, b, 0.25)
	n := "model.layers.1.self_attn.q_proj.lora_A"
	va, vb, vm := a.Params.Float32s(n), b.Params.Float32s(n), mixed.Params.Float32s(n)
	for i := range vm {
		if want := 0.75*float64(va[i]) + 0.25*float64(vb[i]); math.Abs(float64(vm[i])-want) > 1e-6 {
			t.Fatalf("mix[%d] = %v, want %v", i, vm[i], want)
		}
	}
	c := a.Clone()
	_ = c.Params[n].MutableFlatData(func(flat any) { flat.([]float32)[0] = 42 })
	if a.Params.Float32s(n)[0] == 42 {
		t.Error("Clone shares storage")
	}
	p := NewRandom(cfg, 3)
	if err := CheckShapes(p, ParamShapes(cfg), "random"); err != nil {
		t.Fatal(err)
	}
	if v := p.Float32s("model.layers.0.input_layernorm.weight"); v[0] != 1 {
		t.Errorf("norm init %v", v[0])
	}
	var sum, sq float64
	w := p.Float32s("model.embed_tokens.weight")
	for _, x := range w {
		sum += float64(x)
		sq += float64(x) * float64(x)
	}
	if std := math.Sqrt(sq/float64(len(w)) - math.Pow(sum/float64(len(w)), 2)); math.Abs(std-0.02) > 0.003 {
		t.Errorf("embedding std %v, want ≈0.02", std)
	}
}

func TestShiftTargets(t *testing.T) {
	targets, weights := ShiftTargets([][]int32{{5, 6, 7, 8}, {1, 2}}, []int{2, 0})
	if !slices.Equal(targets[0], []int32{6, 7, 8, 0}) || !slices.Equal(weights[0], []float32{0, 1, 1, 0}) {
		t.Errorf("row0 %v %v", targets[0], weights[0])
	}
	if !slices.Equal(targets[1], []int32{2, 0, 0, 0}) || !slices.Equal(weights[1], []float32{1, 0, 0, 0}) {
		t.Errorf("row1 %v %v", targets[1], weights[1])
	}
}

// TestRunnerPaddingAndPositions checks that ragged rows (right padding, bucketing) give the same logits as each
// row alone, and that explicit [B,T] positions equal the default ones.
func TestRunnerPaddingAndPositions(t *testing.T) {
	cfg := Config{Arch: "qwen2", VocabSize: 40, HiddenSize: 16, NumLayers: 1, NumHeads: 4, NumKVHeads: 2, HeadDim: 4,
		IntermediateSize: 24, MaxPositions: 64, RopeTheta: 1e4, RMSNormEps: 1e-6, QKVBias: true, TieEmbeddings: true,
		BOSTokenID: -1, EOSTokenID: -1}
	p := NewRandom(cfg, 7)
	r := NewRunner(hfrefBackend(t), cfg)
	rows := [][]int32{{1, 2, 3, 4, 5, 6, 7}, {9, 8, 7}}
	both, err := r.Logits(p, nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	for b, row := range rows {
		alone, err := r.Logits(p, nil, [][]int32{row})
		if err != nil {
			t.Fatal(err)
		}
		if e := relErr(flatten(both[b]), flatten(alone[0])); e > 1e-6 {
			t.Errorf("row %d: batched vs alone rel.err %g", b, e)
		}
	}
	if _, err := r.Logits(p, nil, [][]int32{{1, 40}}); err == nil {
		t.Error("out-of-vocabulary id accepted")
	}
	// The loss of a padded batch ignores the padding.
	l1, err := r.Loss(p, nil, rows[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := r.Loss(p, nil, [][]int32{rows[0], {3}}, nil) // second row has no targets
	if err != nil || math.Abs(float64(l1-l2)) > 1e-6 {
		t.Errorf("padded loss %v vs %v (%v)", l2, l1, err)
	}

	// Explicit positions: [B,T] 0..T-1 equals the default; a constant shift leaves logits unchanged (RoPE only
	// sees relative offsets), while a permutation of positions changes them (so positions are really used).
	ids := [][]int32{{1, 2, 3, 4, 5, 6, 7, 8}}
	exec, err := graph.NewExec(hfrefBackend(t), func(in []*graph.Node) []*graph.Node {
		w := Bind(p.Names(), in[2:])
		def := Forward(cfg, w, in[0], ForwardOptions{})
		explicit := Forward(cfg, w, in[0], ForwardOptions{Positions: in[1]})
		// SLOT delta: [H] and [B,H] forms must agree and must change the logits.
		delta := graph.MulScalar(graph.OnesLike(w["model.norm.weight"]), 0.5)
		d1 := Forward(cfg, w, in[0], ForwardOptions{HiddenDelta: delta})
		d2 := Forward(cfg, w, in[0], ForwardOptions{HiddenDelta: graph.InsertAxes(delta, 0)})
		return []*graph.Node{def, explicit, d1, d2}
	})
	if err != nil {
		t.Fatal(err)
	}
	run := func(pos []int32) (def, explicit []float32) {
		args := append([]any{tensors.FromValue(ids), tensors.FromValue([][]int32{pos})}, anySlice(p.Tensors())...)
		out, err := exec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		if d1, d2 := tensors.MustCopyFlatData[float32](out[2]), tensors.MustCopyFlatData[float32](out[3]); !slices.Equal(d1, d2) ||
			relErr(d1, tensors.MustCopyFlatData[float32](out[0])) < 1e-3 {
			t.Error("HiddenDelta [H] vs [B,H] disagree, or the delta had no effect")
		}
		return tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	}
	def, same := run([]int32{0, 1, 2, 3, 4, 5, 6, 7})
	if !slices.Equal(def, same) {
		t.Error("explicit 0..T-1 positions differ from the default")
	}
	if _, shifted := run([]int32{5, 6, 7, 8, 9, 10, 11, 12}); relErr(shifted, def) > 1e-6 {
		t.Errorf("shifted positions rel.err %g", relErr(shifted, def))
	}
	// Random weights (std 0.02) make attention nearly uniform, so the change is small but far above rounding.
	if _, perm := run([]int32{3, 1, 2, 0, 4, 5, 6, 7}); relErr(perm, def) < 1e-4 {
		t.Errorf("permuted positions barely changed the logits (rel.err %g)", relErr(perm, def))
	}
}

func anySlice(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}
