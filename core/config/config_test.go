package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/degaml/workbench/models"
)

func defaults(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../workbench.toml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmbeddedDefaultsValid(t *testing.T) {
	d := defaults(t)
	t.Chdir(t.TempDir()) // no ./workbench.toml here
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	c, err := Load(d, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Preset != "nano-word" || c.LoRA.Rank != 4 || c.Serve.IdleTimeout.Minutes() != 15 || len(c.LoRA.Targets) != 7 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "user.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUserFileOverridesOnlyItsKeys(t *testing.T) {
	p := write(t, "[lora]\nrank = 16\n")
	c, err := Load(defaults(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.LoRA.Rank != 16 || c.LoRA.Alpha != 8 || c.Model.Preset != "nano-word" {
		t.Fatalf("override wrong: %+v", c.LoRA)
	}
	if len(c.Source) != 2 || c.Source[1] != p {
		t.Fatalf("sources: %v", c.Source)
	}
}

func TestErrorsNameFileKeyAndLine(t *testing.T) {
	cases := []struct{ body, want string }{
		{"[lora]\nrank = 4\nrnak = 5\n", `user.toml:3: unknown key "lora.rnak"`},
		{"[model]\npreset = \"nano\"\n\n[lora]\nrank = \"eight\"\n", "user.toml:5: lora.rank: want an integer, got a string"},
		{"[adapt]\ninner_steps = nan\n", "user.toml:2: adapt.inner_steps: want an integer, got a number with a fraction"},
		{"[nosuch]\nx = 1\n", `user.toml:1: unknown key "nosuch"`},
		{"[lora\nrank = 1\n", "user.toml:2: expected"},
		{"[serve]\nidle_timeout = \"soon\"\n", "user.toml:2:"},
		{"[lora]\ntargets = [\"q_proj\", \"qq\"]\n", `unknown module "qq"`},
	}
	for _, tc := range cases {
		_, err := Load(defaults(t), write(t, tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want it to contain %q", tc.body, err, tc.want)
		}
	}
	// A misspelt table is one mistake, reported once, not once per key in it.
	f := write(t, "[nosuch]\nx = 1\ny = 2\n[lora]\nrnak = 5\n")
	_, err := Load(defaults(t), f)
	if err == nil || err.Error() != f+":1: unknown key \"nosuch\"\n"+f+":5: unknown key \"lora.rnak\"" {
		t.Errorf("unknown table and key: got %q", err)
	}
}

// The config accepts exactly the modules the model can put a LoRA on (one
// list, models.LoRATargets), each alone.
func TestLoRATargetsAreTheModels(t *testing.T) {
	for _, m := range models.LoRATargets() {
		c, err := Load(defaults(t), write(t, "[lora]\ntargets = [\""+m+"\"]\n"))
		if err != nil || !slices.Equal(c.LoRA.Targets, []string{m}) {
			t.Errorf("target %s: %v", m, err)
		}
	}
	_, err := Load(defaults(t), write(t, "[lora]\ntargets = [\"lm_head\"]\n"))
	if err == nil || !strings.Contains(err.Error(), strings.Join(models.LoRATargets(), " ")) {
		t.Errorf("lm_head: %v, want the error to list the valid modules", err)
	}
}

func TestMissingExplicitFileIsError(t *testing.T) {
	if _, err := Load(defaults(t), filepath.Join(t.TempDir(), "nope.toml")); err == nil {
		t.Fatal("missing --config file accepted")
	}
}

func FuzzLoad(f *testing.F) {
	d, err := os.ReadFile("../../workbench.toml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(d)
	f.Add([]byte("[lora]\nrank = 4\n"))
	f.Add([]byte("[[x]]\n"))
	f.Add([]byte("a = \"\\u0000\"\n[b.c]\nd = 1979-05-27T07:32:00Z"))
	// Issue 13's attacks: a UTF-16 BOM, deep nesting, bad numbers.
	f.Add([]byte("\xff\xfe[\x00a\x00]\x00"))
	f.Add([]byte("x = " + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "\n"))
	f.Add([]byte("[" + strings.Repeat("a.", 40) + "a]\n"))
	f.Add([]byte("[adapt]\nlr = nan\n[pipeline]\npretrain_steps = -10\n"))
	f.Add([]byte("s = \"\"\"[[[\n{{{\"\"\" # ]]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.toml")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = Load(d, p) // must not panic
	})
}
