package tomlpos

import (
	"testing"

	"github.com/BurntSushi/toml"
)

const file = `# comment line
name = "x"
"quoted key" = 1
site."dotted.part".depth = 2

[model]   # a comment after a header
preset = "nano"
rank   = 8
inline = { a = 1, b = 2 }

[[suites]]
name = "math"

[train.opt]
lr = 0.1
`

func TestLinesFindEveryKind(t *testing.T) {
	// The file must be TOML the decoder accepts, or the keys below mean nothing.
	var v map[string]any
	md, err := toml.Decode(file, &v)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"name":                     2,
		`"quoted key"`:             3,
		`site."dotted.part".depth`: 4,
		"model":                    6,
		"model.preset":             7,
		"model.rank":               8,
		"model.inline":             9,
		"model.inline.a":           9, // inside an inline table: its parent's line
		"suites":                   11,
		"suites.name":              12,
		"train.opt":                14,
		"train.opt.lr":             15,
	}
	lines := Scan([]byte(file))
	seen := 0
	for _, k := range md.Keys() {
		w, ok := want[k.String()]
		if !ok {
			continue
		}
		seen++
		if got := lines.Of(k); got != w {
			t.Errorf("%s: line %d, want %d", k, got, w)
		}
		if got := KeyLine([]byte(file), k); got != w {
			t.Errorf("KeyLine(%s) = %d, want %d", k, got, w)
		}
	}
	if seen != len(want) {
		t.Errorf("the decoder listed %d of the %d keys the test checks", seen, len(want))
	}
}

func TestMissingKeyIsLineZero(t *testing.T) {
	if got := Scan([]byte(file)).Of(toml.Key{"nowhere", "at", "all"}); got != 0 {
		t.Errorf("line %d for a key the file does not write, want 0", got)
	}
}

// A key the file does not write inside a table it does: the table's line
// is not claimed for it, since "train" itself is never written either.
func TestUnwrittenTableIsNotGuessed(t *testing.T) {
	if got := Scan([]byte(file)).Of(toml.Key{"train", "epochs"}); got != 0 {
		t.Errorf("line %d, want 0", got)
	}
}
