package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models/safetensors"
	"github.com/degaml/workbench/models/tokenizer"
)

func generateBackend(t testing.TB) compute.Backend { return testref.Backend(t) }

// fullLogits runs the uncached Forward on ids and returns logits [T][V].
func fullLogits(t *testing.T, m *Model, ids []int) [][]float32 {
	t.Helper()
	names := m.Params.Names()
	e, err := graph.NewExec(generateBackend(t), func(g *graph.Graph, in []*graph.Node) *graph.Node {
		return Forward(m.Config, Bind(names, in[:len(names)]), in[len(names)], ForwardOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]int32, len(ids))
	for i, v := range ids {
		buf[i] = int32(v)
	}
	args := []any{}
	for _, p := range m.Params.Tensors() {
		args = append(args, p)
	}
	args = append(args, tensors.FromFlatDataAndDimensions(buf, 1, len(ids)))
	out, err := e.Call(args...)
	if err != nil {
		t.Fatal(err)
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	V := m.Config.VocabSize
	rows := make([][]float32, len(ids))
	for i := range rows {
		rows[i] = flat[i*V : (i+1)*V]
	}
	return rows
}

func TestGenerateMatchesHFReference(t *testing.T) {
	dir, ref := generationReference(t)
	for _, kind := range []string{"qwen2", "llama"} {
		m, err := LoadHF(filepath.Join(dir, "tiny-"+kind))
		if err != nil {
			t.Fatal(err)
		}
		gen := NewGenerator(generateBackend(t), m)
		V := m.Config.VocabSize
		for _, rc := range referenceCases(t, ref, kind) {
			key, prompt := rc.key, rc.prompt
			// Greedy 12 with the KV cache equals HF's greedy continuation.
			ids := assertGreedy12(t, gen, ref, key, prompt, "")
			// Token-by-token cached logits equal HF's logits on the prompt, and our uncached forward on
			// prompt+continuation at every position.
			all := append(append([]int{}, prompt...), ids...)
			full := fullLogits(t, m, all)
			hf := ref[key+"logits"].F32
			s, err := gen.NewSession(len(all), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for i, id := range all {
				got, err := s.Feed([]int{id})
				if err != nil {
					t.Fatal(err)
				}
				if d := maxAbsDiff(got, full[i]); d > worst {
					worst = d
				}
				if i < len(prompt) {
					if e := relErr(got, hf[i*V:(i+1)*V]); e > 1e-4 {
						t.Errorf("%s position %d: cached logits rel err %.2e vs HF", key, i, e)
					}
				}
			}
			s.Close()
			if _, err := s.Feed([]int{all[0]}); err == nil { // its cache buffers are gone
				t.Errorf("%s: Feed on a closed session succeeded", key)
			}
			if worst > 1e-4 {
				t.Errorf("%s: cached vs full forward max |diff| %.3e", key, worst)
			}
			// One prefill call gives the same last-position logits.
			s2, _ := gen.NewSession(len(all), nil, nil)
			got, err := s2.Feed(prompt)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(got, hf[(len(prompt)-1)*V:len(prompt)*V]); e > 1e-4 {
				t.Errorf("%s prefill: rel err %.2e vs HF", key, e)
			}
			s2.Close()
			t.Logf("%s: greedy12 ok, cached-vs-full max diff %.2e", key, worst)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func TestGenerateOptions(t *testing.T) {
	cfg, _ := PresetConfig("nano")
	m := &Model{Config: cfg, Params: NewRandom(cfg, 1), Tokenizer: tokenizer.NewByte()}
	gen := NewGenerator(generateBackend(t), m)
	ctx := context.Background()
	prompt := m.Tokenizer.Encode("hello")

	// Too-long prompt: a clear error, or left truncation on request.
	long := make([]int, cfg.MaxPositions+10)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := gen.Generate(ctx, long, GenerateOptions{MaxNew: 4, Greedy: true}); !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("long prompt: got %v, want ErrPromptTooLong", err)
	}
	res, err := gen.Generate(ctx, long, GenerateOptions{MaxNew: 4, Greedy: true, TruncateLeft: true})
	if err != nil || len(res.IDs) != 4 || res.PromptLen != cfg.MaxPositions-4 {
		t.Errorf("TruncateLeft: %v %+v", err, res)
	}
	// Seeded sampling is reproducible; the callback can stop early.
	o := GenerateOptions{MaxNew: 10, Temperature: 1, TopK: 50, TopP: 0.9, Seed: 42}
	a, err := gen.Generate(ctx, prompt, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := gen.Generate(ctx, prompt, o)
	if fmt.Sprint(a.IDs) != fmt.Sprint(b.IDs) || len(a.IDs) != 10 {
		t.Errorf("seeded sampling not reproducible: %v vs %v", a.IDs, b.IDs)
	}
	n := 0
	c, _ := gen.Generate(ctx, prompt, GenerateOptions{MaxNew: 10, Greedy: true, OnToken: func(int, string) bool {
		n++
		return n < 3
	}})
	if len(c.IDs) != 3 || c.StopReason != "callback" {
		t.Errorf("callback stop: %+v", c)
	}
	// Generation runs to the end of the context without crashing.
	d, err := gen.Generate(ctx, long[:cfg.MaxPositions-2], GenerateOptions{MaxNew: 10, Greedy: true})
	if err != nil || len(d.IDs) != 2 || d.StopReason != "context" {
		t.Errorf("context end: %v %+v", err, d)
	}
}

func TestTextStreamHoldsIncompleteRunes(t *testing.T) {
	tok := tokenizer.NewByte()
	var ts textStream
	var got []string
	for _, id := range tok.Encode("é€!") {
		got = append(got, ts.push(tok, id))
	}
	want := []string{"", "é", "", "", "€", "!"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pieces %q, want %q", got, want)
	}
}

func TestGenerateWithAdapterMatchesPEFT(t *testing.T) {
	dir, ref := generationReference(t)
	for _, kind := range []string{"qwen2", "llama"} {
		m, ad := loadTinyWithLoRA(t, dir, kind)
		s, err := NewGenerator(generateBackend(t), m).NewSession(0, ad, nil)
		if err != nil {
			t.Fatal(err)
		}
		V := m.Config.VocabSize
		want := ref[kind+".lora.case0.logits"].F32
		for i, id := range ref[kind+".case0.input_ids"].I64 {
			got, err := s.Feed([]int{int(id)})
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(got, want[i*V:(i+1)*V]); e > 1e-4 {
				t.Fatalf("%s position %d: cached LoRA logits rel err %.2e vs PEFT", kind, i, e)
			}
		}
		s.Close()
	}
}

func TestGenerateHiddenDelta(t *testing.T) {
	// A SLOT δ moves the final hidden state: δ = c·e_k changes logits by c·W_head[:,k] exactly.
	cfg, _ := PresetConfig("nano")
	m := &Model{Config: cfg, Params: NewRandom(cfg, 3), Tokenizer: tokenizer.NewByte()}
	gen := NewGenerator(generateBackend(t), m)
	delta := make([]float32, cfg.HiddenSize)
	delta[5] = 2
	s0, _ := gen.NewSession(0, nil, nil)
	s1, err := gen.NewSession(0, nil, delta)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s0.Feed([]int{'h', 'i'})
	b, _ := s1.Feed([]int{'h', 'i'})
	head := m.Params.Float32s("lm_head.weight")
	for v := 0; v < cfg.VocabSize; v++ {
		if d := float64(b[v] - a[v] - 2*head[v*cfg.HiddenSize+5]); math.Abs(d) > 1e-5 {
			t.Fatalf("token %d: delta effect off by %g", v, d)
		}
	}
}

// referenceCase is one prompt of the HF reference file: its key prefix
// ("qwen2.case0.") and token ids.
type referenceCase struct {
	key    string
	prompt []int
}

// referenceCases lists a model kind's prompts in the reference (at least one).
func referenceCases(t *testing.T, ref map[string]safetensors.Tensor, kind string) []referenceCase {
	t.Helper()
	var cases []referenceCase
	for c := 0; ; c++ {
		key := fmt.Sprintf("%s.case%d.", kind, c)
		in, ok := ref[key+"input_ids"]
		if !ok {
			break
		}
		prompt := make([]int, len(in.I64))
		for i, v := range in.I64 {
			prompt[i] = int(v)
		}
		cases = append(cases, referenceCase{key, prompt})
	}
	if len(cases) == 0 {
		t.Fatalf("no %s.case0.input_ids in the reference", kind)
	}
	return cases
}

// assertGreedy12 checks that 12 greedy tokens from prompt equal HF's and
// returns them.
func assertGreedy12(t *testing.T, gen *Generator, ref map[string]safetensors.Tensor, key string, prompt []int, path string) []int {
	t.Helper()
	res, err := gen.Generate(context.Background(), prompt, GenerateOptions{MaxNew: 12, Greedy: true})
	if err != nil {
		t.Fatal(err)
	}
	want := ref[key+"greedy12"].I64
	for i := range want {
		if i >= len(res.IDs) || int64(res.IDs[i]) != want[i] {
			t.Fatalf("%s greedy12%s: got %v, want %v", key, path, res.IDs, want)
		}
	}
	return res.IDs
}

// generationReference is the hf-reference directory and its reference tensors
// (prompts, HF logits, greedy continuations, PEFT logits).
func generationReference(t *testing.T) (string, map[string]safetensors.Tensor) {
	t.Helper()
	dir := testref.Dir(t)
	ref, _, err := safetensors.ReadFile(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, ref
}

// loadTinyWithLoRA loads a tiny reference model and its reference PEFT adapter.
func loadTinyWithLoRA(t *testing.T, dir, kind string) (*Model, *Adapter) {
	t.Helper()
	m, err := LoadHF(filepath.Join(dir, "tiny-"+kind))
	if err != nil {
		t.Fatal(err)
	}
	ad, err := LoadPEFT(filepath.Join(dir, "tiny-"+kind+"-lora"))
	if err != nil {
		t.Fatal(err)
	}
	return m, ad
}
