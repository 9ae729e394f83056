// Package themes holds the TUI colour themes: embedded TOML files (dark,
// light, high-contrast, monochrome) plus user files, decoded strictly so that a
// typo names its file and line instead of silently falling back.
package themes

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/degaml/workbench/internal/tomlpos"
)

//go:embed *.toml
var builtin embed.FS

// Default is the theme used when none is named.
const Default = "dark"

// Theme is a decoded theme file.
type Theme struct {
	Name string `toml:"name"`
	// Mono marks themes that must not emit colour at all (monochrome,
	// NO_COLOR); styles then rely on bold/underline/reverse only.
	Mono   bool    `toml:"mono"`
	Colors Palette `toml:"colors"`
	// Source is where the theme came from ("builtin:dark" or a path).
	Source string `toml:"-"`
}

// Palette names every colour the TUI uses.
type Palette struct {
	Text        Color   `toml:"text"`
	Muted       Color   `toml:"muted"`
	Accent      Color   `toml:"accent"`
	Border      Color   `toml:"border"`
	BorderFocus Color   `toml:"border_focus"`
	SelectedFg  Color   `toml:"selected_fg"`
	SelectedBg  Color   `toml:"selected_bg"`
	Good        Color   `toml:"good"`
	Warn        Color   `toml:"warn"`
	Bad         Color   `toml:"bad"`
	Series      []Color `toml:"series"` // chart series, in order
}

// Names lists the embedded themes.
func Names() []string {
	ents, _ := builtin.ReadDir(".")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".toml"))
	}
	sort.Strings(out)
	return out
}

// Load returns an embedded theme by name, or decodes the TOML file at the
// given path. An empty name means Default; NO_COLOR in the environment forces
// monochrome whatever was asked (https://no-color.org).
func Load(nameOrPath string) (Theme, error) {
	if os.Getenv("NO_COLOR") != "" {
		nameOrPath = "monochrome"
	}
	if nameOrPath == "" {
		nameOrPath = Default
	}
	if data, err := builtin.ReadFile(nameOrPath + ".toml"); err == nil {
		return Parse(data, "builtin:"+nameOrPath)
	}
	if !strings.ContainsAny(nameOrPath, `/\`) && filepath.Ext(nameOrPath) == "" {
		return Theme{}, fmt.Errorf("unknown theme %q (built-in: %s; or give a path to a .toml file)",
			nameOrPath, strings.Join(Names(), ", "))
	}
	data, err := os.ReadFile(nameOrPath)
	if err != nil {
		return Theme{}, fmt.Errorf("theme: %w", err)
	}
	return Parse(data, nameOrPath)
}

// MustBuiltin returns an embedded theme and panics if it is broken (a build
// error, covered by tests).
func MustBuiltin(name string) Theme {
	data, err := builtin.ReadFile(name + ".toml")
	if err != nil {
		panic(err)
	}
	t, err := Parse(data, "builtin:"+name)
	if err != nil {
		panic(err)
	}
	return t
}

// Parse decodes theme TOML strictly. file names the source in errors.
func Parse(data []byte, file string) (Theme, error) {
	var t Theme
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&t)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Theme{}, fmt.Errorf("%s:%d: %s", file, pe.Position.Line, pe.Message)
		}
		return Theme{}, fmt.Errorf("%s: %w", file, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return Theme{}, fmt.Errorf("%s:%d: unknown key %q", file, tomlpos.KeyLine(data, k), k.String())
	}
	if t.Name == "" {
		return Theme{}, fmt.Errorf("%s: missing name", file)
	}
	if !t.Mono && len(t.Colors.Series) == 0 {
		return Theme{}, fmt.Errorf("%s: colors.series needs at least one colour", file)
	}
	t.Source = file
	return t, nil
}
