package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/degaml/workbench/models"
)

// The summary in `workbench --help` is what a newcomer reads first: every
// preset tokenize accepts must be named there (nano-word was missing).
func TestTokenizeSummaryNamesEveryPreset(t *testing.T) {
	var summary string
	for _, c := range commands {
		if c.name == "tokenize" {
			summary = c.summary
		}
	}
	if summary == "" {
		t.Fatal("tokenize is not registered")
	}
	for _, p := range models.Presets() {
		if !strings.Contains(summary, p.Name) {
			t.Errorf("tokenize summary %q does not name preset %q", summary, p.Name)
		}
		// And every named preset really tokenizes.
		var out bytes.Buffer
		if err := tokenize(strings.NewReader("which material is shiny ?"), &out, []string{"--model", p.Name}); err != nil {
			t.Errorf("tokenize --model %s: %v", p.Name, err)
		} else if strings.TrimSpace(out.String()) == "" {
			t.Errorf("tokenize --model %s printed no ids", p.Name)
		}
	}
}
