package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunJSONContract checks the shape other tools parse: JSON lines of
// events, the last one {"type":"result", ...} with the accuracy.
func TestRunJSONContract(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a (tiny) base model")
	}
	cfg := filepath.Join(t.TempDir(), "tiny.toml")
	if err := os.WriteFile(cfg, []byte("[pipeline]\npretrain_steps = 4\npretrain_batch = 4\ntrain_instances = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := runCmd(&out, "run", "--config", cfg, "--workdir", t.TempDir(), "--task", "logic", "--method", "nometa-lora", "--inner-steps", "2", "--seed", "4", "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	steps := 0
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d is not JSON: %q", i+1, l)
		}
		if m["type"] == "step" && m["method"] == "nometa-lora" {
			steps++
		}
		if i == len(lines)-1 {
			acc, ok := m["accuracy"].(float64)
			res, _ := m["result"].(map[string]any)
			if m["type"] != "result" || !ok || acc < 0 || acc > 1 || res["method"] != "nometa-lora" || res["n"].(float64) < 1 {
				t.Fatalf("last line is not the result: %s", l)
			}
		}
	}
	if steps != 2 {
		t.Fatalf("%d adaptation step events, want 2", steps)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	var out bytes.Buffer
	if err := runCmd(&out, "run", "--method", "base"); err == nil || !strings.Contains(err.Error(), "--task") {
		t.Fatalf("missing --task: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(cfg, []byte("[lora]\nrank = \"x\"\n"), 0o644)
	if err := runCmd(&out, "run", "--config", cfg, "--task", "logic"); err == nil || !strings.Contains(err.Error(), "bad.toml:2") {
		t.Fatalf("bad config: %v", err)
	}
}
