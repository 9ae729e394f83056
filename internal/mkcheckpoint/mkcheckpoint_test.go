package mkcheckpoint

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/degaml/workbench/models/tokenizer"
)

// TestPublishedShapes checks the published hyperparameters against the
// parameter counts the model cards state, and that each config parses
// (Llama-3.2's with its llama3 rope scaling).
func TestPublishedShapes(t *testing.T) {
	for _, c := range []struct {
		name       string
		params     int64 // from the model cards / safetensors totals
		layers     int
		hidden     int
		vocabSize  int
		shardFiles bool
	}{
		{"qwen2.5-0.5b", 494_032_768, 24, 896, 151936, false},
		{"qwen2.5-1.5b", 1_543_714_304, 28, 1536, 151936, true},
		{"llama-3.2-1b", 1_235_814_400, 16, 2048, 128256, true},
	} {
		s, err := Lookup(c.name)
		if err != nil {
			t.Fatal(err)
		}
		cfgJSON, _ := json.Marshal(s.Config)
		cfg, err := models.ParseHFConfig(cfgJSON, c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if scaled := cfg.RopeScaling.Type == "llama3"; scaled != (s.Config["rope_scaling"] != nil) {
			t.Errorf("%s: rope scaling %+v from %v", c.name, cfg.RopeScaling, s.Config["rope_scaling"])
		}
		if got := models.CountParams(cfg); got != c.params {
			t.Errorf("%s: %d parameters, the published checkpoint has %d", c.name, got, c.params)
		}
		if cfg.NumLayers != c.layers || cfg.HiddenSize != c.hidden || cfg.VocabSize != c.vocabSize || !cfg.TieEmbeddings {
			t.Errorf("%s: config %+v", c.name, cfg)
		}
		if sharded := models.CountParams(cfg)*2 > 2<<30; sharded != c.shardFiles {
			t.Errorf("%s: sharded at the default 2 GiB = %v, want %v", c.name, sharded, c.shardFiles)
		}
	}
}

func TestBPETokens(t *testing.T) {
	toks, merges := bpeTokens(70000)
	if len(toks) != 70000 || len(merges) != 70000-256 {
		t.Fatalf("%d tokens, %d merges", len(toks), len(merges))
	}
	seen := map[string]bool{}
	for _, tok := range toks {
		if seen[tok] {
			t.Fatalf("duplicate token %q", tok)
		}
		seen[tok] = true
	}
	for i, m := range merges {
		if !seen[m[0]] || !seen[m[1]] || m[0]+m[1] != toks[256+i] {
			t.Fatalf("merge %d %q does not build token %q from vocabulary entries", i, m, toks[256+i])
		}
	}
}

// TestWriteLoadGenerate writes each tiny shape (one sharded), loads it with
// the workbench's HF loader, checks names/shapes/dtypes/values and the
// tokenizer, and generates from it.
func TestWriteLoadGenerate(t *testing.T) {
	for _, c := range []struct {
		shape    string
		maxShard int64
	}{{"tiny-qwen2", 0}, {"tiny-llama", 40_000}} {
		t.Run(c.shape, func(t *testing.T) {
			s, err := Lookup(c.shape)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			if err := Write(dir, s, Options{Seed: 7, MaxShardBytes: c.maxShard}); err != nil {
				t.Fatal(err)
			}
			_, errSingle := os.Stat(filepath.Join(dir, "model.safetensors"))
			_, errIndex := os.Stat(filepath.Join(dir, "model.safetensors.index.json"))
			if sharded := c.maxShard > 0; (errIndex == nil) != sharded || (errSingle == nil) == sharded {
				t.Fatalf("sharded=%v but model.safetensors: %v, index: %v", sharded, errSingle, errIndex)
			}
			if c.maxShard > 0 {
				files, _ := filepath.Glob(filepath.Join(dir, "model-*-of-*.safetensors"))
				if len(files) < 2 {
					t.Fatalf("want several shards, got %v", files)
				}
				for _, f := range files {
					h, err := safetensors.ReadHeader(f)
					if err != nil {
						t.Fatal(err)
					}
					var size int64
					for _, ti := range h.Tensors {
						if ti.DType != "BF16" {
							t.Errorf("%s: %s is %s, want BF16", f, ti.Name, ti.DType)
						}
						size += ti.End - ti.Begin
					}
					if size > c.maxShard && len(h.Tensors) > 1 {
						t.Errorf("%s holds %d bytes, over the %d limit", f, size, c.maxShard)
					}
				}
			}
			m, err := models.LoadHF(dir)
			if err != nil {
				t.Fatal(err)
			}
			cfg := m.Config
			if err := models.CheckShapes(m.Params, models.ParamShapes(cfg), dir); err != nil {
				t.Fatal(err)
			}
			if m.Tokenizer == nil || m.Tokenizer.VocabSize() != cfg.VocabSize {
				t.Fatalf("tokenizer vocabulary %v, config %d", m.Tokenizer, cfg.VocabSize)
			}
			// Values: norms exactly 1, matrices BF16-rounded N(0, 0.02²).
			if !slices.Equal(m.Params.Float32s("model.norm.weight"), slices.Repeat([]float32{1}, cfg.HiddenSize)) {
				t.Error("final norm is not all ones")
			}
			emb := m.Params.Float32s("model.embed_tokens.weight")
			var sum, sq float64
			for _, v := range emb {
				sum += float64(v)
				sq += float64(v) * float64(v)
			}
			mean, std := sum/float64(len(emb)), sq/float64(len(emb))
			if mean > 0.002 || mean < -0.002 || std < 0.018*0.018 || std > 0.022*0.022 {
				t.Errorf("embedding mean %.4f variance %.6f, want ≈0 and ≈0.0004", mean, std)
			}
			tok := m.Tokenizer
			text := "Hello, world! 12345 héllo"
			ids := tok.Encode(text)
			if got := tok.Decode(tokenizer.StripSpecial(tok, ids)); got != text {
				t.Fatalf("round trip %q -> %v -> %q", text, ids, got)
			}
			if s.Llama3 && (len(ids) == 0 || ids[0] != cfg.BOSTokenID) {
				t.Errorf("llama 3 tokenizer must prefix <|begin_of_text|> (%d), got %v", cfg.BOSTokenID, ids)
			}
			if id, ok := tok.TokenID(s.EOS); !ok || id != tok.EOS() {
				t.Errorf("EOS %q: id %d ok=%v, tokenizer EOS %d", s.EOS, id, ok, tok.EOS())
			}
			if s.EOS == "<|im_end|>" && tok.EOS() != cfg.EOSTokenID {
				t.Errorf("tokenizer EOS %d, config eos_token_id %d", tok.EOS(), cfg.EOSTokenID)
			}
			g := models.NewGenerator(testref.Backend(t), m)
			out, err := g.Generate(context.Background(), ids, models.GenerateOptions{MaxNew: 4, Greedy: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.IDs) != 4 {
				t.Fatalf("generated %v", out.IDs)
			}
			// The same seed writes the same weights, sharded or not.
			again := t.TempDir()
			if err := Write(again, s, Options{Seed: 7}); err != nil {
				t.Fatal(err)
			}
			m2, err := models.LoadHF(again)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range m.Params.Names() {
				if !slices.Equal(m.Params.Float32s(n), m2.Params.Float32s(n)) {
					t.Fatalf("%s differs between two writes with the same seed", n)
				}
			}
		})
	}
}

// A shape with llama3 rope scaling (Llama-3.2) is written as published and
// loads with the scaling, which changes the model's output.
func TestRopeScalingWrittenAndLoaded(t *testing.T) {
	s, err := Lookup("tiny-llama")
	if err != nil {
		t.Fatal(err)
	}
	full, _ := Lookup("llama-3.2-1b")
	plain := t.TempDir()
	if err := Write(plain, s, Options{}); err != nil {
		t.Fatal(err)
	}
	s.Config["rope_scaling"] = full.Config["rope_scaling"]
	dir := t.TempDir()
	if err := Write(dir, s, Options{}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if !strings.Contains(string(data), `"rope_type": "llama3"`) {
		t.Errorf("config.json lost rope_scaling:\n%s", data)
	}
	be := testref.Backend(t)
	logits := func(dir string) (models.Config, []float32) {
		m, err := models.LoadHFWith(dir, models.LoadOptions{Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int32, 200) // positions up to 199: the scaled low frequencies turn visibly less
		for i := range ids {
			ids[i] = int32(i % 700)
		}
		out, err := models.NewRunner(be, m.Config).Logits(m.Params, nil, [][]int32{ids})
		if err != nil {
			t.Fatal(err)
		}
		return m.Config, out[0][len(ids)-1]
	}
	cfg, scaled := logits(dir)
	if want := (models.RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}); cfg.RopeScaling != want {
		t.Errorf("loaded rope scaling %+v, want %+v", cfg.RopeScaling, want)
	}
	_, unscaled := logits(plain)
	diff := 0.0
	for i := range scaled {
		diff = max(diff, math.Abs(float64(scaled[i]-unscaled[i])))
	}
	if diff == 0 {
		t.Error("rope scaling left the logits unchanged")
	}
}
