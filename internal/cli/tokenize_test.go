package cli

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/degaml/workbench/models"
)

// The summary in `workbench --help` is what a newcomer reads first: every
// preset tokenize accepts must be named there (nano-word was missing).
func TestTokenizeSummaryNamesEveryPreset(t *testing.T) {
	root := newRoot(newTestApp(nil, io.Discard, io.Discard))
	cmd, _, err := root.Find([]string{"tokenize"})
	if err != nil || cmd.Name() != "tokenize" {
		t.Fatalf("tokenize is not a command: %v", err)
	}
	summary := cmd.Short
	for _, p := range models.Presets() {
		if !strings.Contains(summary, p.Name) {
			t.Errorf("tokenize summary %q does not name preset %q", summary, p.Name)
		}
		// And every named preset really tokenizes.
		var out bytes.Buffer
		if err := runCmdIn(strings.NewReader("which material is shiny ?"), &out, "tokenize", "--model", p.Name); err != nil {
			t.Errorf("tokenize --model %s: %v", p.Name, err)
		} else if strings.TrimSpace(out.String()) == "" {
			t.Errorf("tokenize --model %s printed no ids", p.Name)
		}
	}
}
