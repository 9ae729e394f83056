package themes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinsLoad(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, n := range []string{"dark", "light", "high-contrast", "monochrome"} {
		th, err := Load(n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if th.Name != n {
			t.Errorf("%s: name %q", n, th.Name)
		}
	}
	if th, _ := Load(""); th.Name != Default {
		t.Errorf("default = %q", th.Name)
	}
}

func TestNoColorForcesMonochrome(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	th, err := Load("dark")
	if err != nil || !th.Mono {
		t.Fatalf("got %+v, %v", th, err)
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	dir := t.TempDir()
	cases := map[string]struct{ body, want string }{
		"unknown.toml": {"name = \"x\"\n[colors]\ntext = \"#fff\"\nsries = [\"#fff\"]\n", `unknown.toml:4: unknown key "colors.sries"`},
		"badcol.toml":  {"name = \"x\"\n[colors]\ntext = \"#ggg\"\nseries = [\"#fff\"]\n", `badcol.toml:3:`},
		"adapt.toml":   {"name = \"x\"\n[colors]\nseries = [\"#fff\"]\naccent = { light = \"#fff\", drak = \"#000\" }\n", `adapt.toml:4:`},
		"toplvl.toml":  {"name = \"x\"\ncolour = 1\n[colors]\nseries = [\"#fff\"]\n", `toplvl.toml:2: unknown key "colour"`},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
	if _, err := Load("nope"); err == nil || !strings.Contains(err.Error(), "unknown theme") {
		t.Errorf("unknown name: %v", err)
	}
}
