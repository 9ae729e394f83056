package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/internal/testref"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/safetensors"
)

func TestGenerateCLIGreedyMatchesHF(t *testing.T) {
	dir := testref.Dir(t)
	ref, _, err := safetensors.ReadFile(filepath.Join(dir, "reference.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	ids := ref["llama.case1.input_ids"].I64
	parts := make([]string, len(ids))
	for i, v := range ids {
		parts[i] = fmt.Sprint(v)
	}
	var out bytes.Buffer
	err = runCmd(&out, "generate", "--model", filepath.Join(dir, "tiny-llama"), "--prompt-ids", strings.Join(parts, ","),
		"--max-new", "12", "--greedy", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		IDs  []int  `json:"ids"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out.String())
	}
	want := ref["llama.case1.greedy12"].I64
	if fmt.Sprint(got.IDs) != fmt.Sprint(want) {
		t.Errorf("ids %v, want %v", got.IDs, want)
	}
}

func TestGenerateCLIErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--prompt", "x"},
		{"--model", "nano"},
		{"--model", "nano", "--prompt", "x", "--prompt-ids", "1"},
		{"--model", "nano", "--prompt-ids", "1,x"},
		{"--model", "nano", "--prompt-ids", "300"},
		{"--model", "/nonexistent", "--prompt", "x"},
		{"--model", "nano", "--prompt", "x", "--max-new", "-1"},
	} {
		if err := runCmd(&bytes.Buffer{}, append([]string{"generate"}, args...)...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// `generate --model nano` uses the base the pipeline trained in the work
// dir, or says how to get one; --random keeps random weights.
func TestGenerateNanoUsesTrainedBase(t *testing.T) {
	wd := t.TempDir()
	err := runCmd(&bytes.Buffer{}, "generate", "--model", "nano", "--prompt", "x", "--max-new", "1", "--workdir", wd)
	if err == nil || !strings.Contains(err.Error(), "no trained nano base") || !strings.Contains(err.Error(), "--method base --workdir "+wd) {
		t.Fatalf("no base: %v", err)
	}
	var out bytes.Buffer
	if err := runCmd(&out, "generate", "--model", "nano", "--random", "--prompt-ids", "1", "--max-new", "1", "--json", "--workdir", wd); err != nil {
		t.Fatalf("--random: %v", err)
	}
}

// Every command takes --workdir and --config, and those that read the
// config refuse a bad one.
func TestPlacesFlagsEverywhere(t *testing.T) {
	wd := t.TempDir()
	cfg := filepath.Join(wd, "w.toml")
	if err := os.WriteFile(cfg, []byte("# empty: the defaults\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tasks", "models"} {
		if err := runCmd(io.Discard, name, "--workdir", wd, "--config", cfg, "--json"); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Flags before the command name work too: they are the root's.
	if err := runCmd(io.Discard, "--workdir", wd, "tasks", "show", "logic", "--n", "1", "--config", cfg); err != nil {
		t.Errorf("tasks show: %v", err)
	}
	bad := filepath.Join(wd, "bad.toml")
	os.WriteFile(bad, []byte("[nope]\nx = 1\n"), 0o644)
	for _, name := range []string{"tasks", "models"} {
		if err := runCmd(io.Discard, name, "--config", bad); err == nil {
			t.Errorf("%s accepted a bad --config", name)
		}
	}
}

// `generate --model nano-word --prompt TEXT` (the README's example) reads the
// trained base, whose checkpoint names the word tokenizer but does not hold
// it: the preset supplies it. Weights here are random (pretraining is slow);
// the tokenizer path is what is tested: the text is the words of the new ids.
func TestGenerateNanoWordPromptUsesWordTokenizer(t *testing.T) {
	wd := t.TempDir()
	a := newTestApp(nil, io.Discard, io.Discard)
	a.workdir = wd
	cfg, err := a.load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Model.Preset = "nano-word"
	dir, _, err := pipeline.TrainedBase(cfg, wd)
	if err != nil {
		t.Fatal(err)
	}
	p, err := models.PresetByName("nano-word")
	if err != nil {
		t.Fatal(err)
	}
	if err := models.SaveCheckpoint(dir, &models.Checkpoint{Config: p.Config, Tokenizer: "word",
		Weights: models.NewRandom(p.Config, 1)}); err != nil {
		t.Fatal(err)
	}
	prompt := "which material is shiny ?"
	var out bytes.Buffer
	if err := runCmd(&out, "generate", "--model", "nano-word", "--prompt", prompt, "--max-new", "2", "--greedy",
		"--json", "--workdir", wd); err != nil {
		t.Fatalf("generate --model nano-word --prompt: %v", err)
	}
	var res struct {
		IDs  []int  `json:"ids"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	tok, err := pipeline.PresetTokenizer(p)
	if err != nil {
		t.Fatal(err)
	}
	// Words outside the vocabulary are refused by name, not read as <unk>.
	err = runCmd(&bytes.Buffer{}, "generate", "--model", "nano-word", "--prompt", "which metal floats ?", "--workdir", wd)
	if err == nil || !strings.Contains(err.Error(), "not among them: metal, floats") {
		t.Errorf("out-of-vocabulary prompt: err = %v", err)
	}
	if len(res.IDs) != 2 || res.Text != tok.Decode(res.IDs) {
		t.Fatalf("got ids %v text %q; want 2 new ids whose word decoding is the text (%q)", res.IDs, res.Text, tok.Decode(res.IDs))
	}
}
