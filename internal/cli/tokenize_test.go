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

// The word model reads other words as <unk>: the ids are printed as ever,
// and stderr names the words, so "3 3" is not taken for a reading.
func TestTokenizeWarnsOfUnknownWords(t *testing.T) {
	var out, errOut bytes.Buffer
	root := newRoot(newTestApp(strings.NewReader("zebra tin xyz"), &out, &errOut))
	root.SetArgs([]string{"tokenize", "--model", "nano-word"})
	if _, err := root.ExecuteC(); err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(out.String())
	if len(ids) != 3 || ids[0] != "3" || ids[2] != "3" || ids[1] == "3" {
		t.Errorf("ids %q, want <unk> (3) for zebra and xyz only", ids)
	}
	if msg := errOut.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, ": zebra, xyz\n") {
		t.Errorf("stderr %q, want one warning naming zebra and xyz", msg)
	}
	errOut.Reset()
	root = newRoot(newTestApp(strings.NewReader("which material is shiny ?"), io.Discard, &errOut))
	root.SetArgs([]string{"tokenize", "--model", "nano-word"})
	if _, err := root.ExecuteC(); err != nil || errOut.Len() != 0 {
		t.Errorf("known words: %v, stderr %q", err, errOut.String())
	}
}
