package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Values the adversarial pass of issue 13 found accepted: each must be an
// error naming the key with the user's file and line.
func TestBadNumbersNameKeyFileAndLine(t *testing.T) {
	d := defaults(t)
	cases := []struct{ body, key string }{
		{"[methods.nometa-lora]\nlr = nan\n", "methods.nometa-lora.lr"},
		{"[pipeline]\npretrain_lr = -1\n", "pipeline.pretrain_lr"},
		{"[pipeline]\npretrain_steps = -10\n", "pipeline.pretrain_steps"},
		{"[pipeline]\npretrain_batch = -1\n", "pipeline.pretrain_batch"},
		{"[pipeline]\npretrain_batch = 0\n", "pipeline.pretrain_batch"},
		{"[methods.maml-en-llm]\nmeta_steps = -1\n", "methods.maml-en-llm.meta_steps"},
		{"[methods.abmll]\nouter_lr = inf\n", "methods.abmll.outer_lr"},
		{"[lora]\nrank = 10000\n", "lora.rank"},
		{"[lora]\nalpha = -nan\n", "lora.alpha"},
		{"[adapt]\nseed = -1\n", "adapt.seed"},
		{"[serve]\nworkers = 0\n", "serve.workers"},
	}
	for _, c := range cases {
		p := write(t, "# a comment\n"+c.body)
		_, err := Load(d, p)
		want := fmt.Sprintf("%s:3: %s", p, c.key)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one starting %q", c.body, err, want)
		}
	}
}

// Every numeric setting has a rule: a new one cannot slip in unvalidated.
func TestEveryNumericSettingHasABound(t *testing.T) {
	var c Config
	n := 0
	walkNumbers(reflect.ValueOf(&c).Elem(), "", func(key string, _ float64) {
		n++
		if _, ok := bounds[key]; !ok {
			t.Errorf("%s has no bound", key)
		}
	})
	if n < 40 {
		t.Fatalf("walked only %d numeric settings", n)
	}
}

func TestUTF16ConfigIsAClearError(t *testing.T) {
	d := defaults(t)
	for _, bom := range [][]byte{{0xFF, 0xFE}, {0xFE, 0xFF}} {
		body := append(append([]byte{}, bom...), []byte("[\x00a\x00d\x00")...)
		p := filepath.Join(t.TempDir(), "u.toml")
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(d, p)
		if err == nil || !strings.Contains(err.Error(), "UTF-16") || !strings.Contains(err.Error(), "save it as UTF-8") {
			t.Errorf("BOM % x: %v", bom, err)
		}
	}
	// A UTF-8 BOM is harmless and accepted.
	p := filepath.Join(t.TempDir(), "u8.toml")
	_ = os.WriteFile(p, []byte("\xef\xbb\xbf[adapt]\nseed = 3\n"), 0o644)
	if c, err := Load(d, p); err != nil || c.Adapt.Seed != 3 {
		t.Errorf("UTF-8 BOM: %v", err)
	}
}

// 20,000 levels used 5.8 GB and never answered; 5,000 gave 5,001 error
// lines. Now: one line, from a scan that allocates nothing per level.
func TestDeepNestingIsOneError(t *testing.T) {
	d := defaults(t)
	bodies := map[string]string{
		"arrays":        "[adapt]\nx = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n",
		"inline tables": "[adapt]\nx = " + strings.Repeat("{a=", 5000) + "1" + strings.Repeat("}", 5000) + "\n",
		"dotted header": "[" + strings.Repeat("a.", 5000) + "a]\n",
		"dotted key":    strings.Repeat("a.", 5000) + "a = 1\n",
		"inline dotted": "[adapt]\nx = {b = 1, " + strings.Repeat("a.", 5000) + "a = 1}\n",
	}
	for name, body := range bodies {
		_, err := Load(d, write(t, body))
		if err == nil || strings.Count(err.Error(), "\n") != 0 || !strings.Contains(err.Error(), "levels deep") {
			t.Errorf("%s: %.300v", name, err)
		}
	}
	// Many floats in an array are not dotted keys.
	floats := "[tui]\ntheme = \"dark\"\n[bench]\nmethods = [\"base\"]\n# " + strings.Repeat("0.5, ", 40) + "\n"
	if _, err := Load(d, write(t, floats)); err != nil {
		t.Errorf("floats in a comment: %v", err)
	}
	if err := checkDepth([]byte("x = ["+strings.Repeat("0.5, ", 40)+"1.5]\n"), "f"); err != nil {
		t.Errorf("an array of 41 floats: %v", err)
	}
	// Brackets inside strings and comments are not nesting.
	ok := "[tui]\ntheme = \"" + strings.Repeat("[", 100) + "\" # " + strings.Repeat("{", 100) + "\n"
	if _, err := Load(d, write(t, ok)); err != nil {
		t.Errorf("brackets in a string: %v", err)
	}
}

func TestManyUnknownKeysAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("[adapt]\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "k%d = 1\n", i)
	}
	_, err := Load(defaults(t), write(t, b.String()))
	if err == nil {
		t.Fatal("accepted")
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines > maxErrorLines+1 || !strings.Contains(err.Error(), "and 4980 more") {
		t.Errorf("%d lines, tail %q", lines, err.Error()[max(0, len(err.Error())-80):])
	}
}

func TestOversizedConfigIsRefused(t *testing.T) {
	old := MaxFileBytes
	MaxFileBytes = 1000
	defer func() { MaxFileBytes = old }()
	_, err := Load(defaults(t), write(t, "# "+strings.Repeat("x", 2000)+"\n"))
	if err == nil || !strings.Contains(err.Error(), "1000-byte limit") {
		t.Errorf("%v", err)
	}
}
