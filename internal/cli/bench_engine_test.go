package cli

import (
	"bytes"
	"encoding/json"
	"testing"
)

// `bench engine --json` is read by scripts: every field must stay, with plausible values.
func TestBenchEngineJSONFields(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "") // the default backend
	var out bytes.Buffer
	if err := runCmd(&out, "bench", "engine", "--json", "--reps", "1", "--rank", "4"); err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out.String())
	}
	positive := []string{"params", "batch", "seq_len", "lora_rank", "lora_step_ms", "train_step_ms", "lora_step_cpu_ms",
		"train_step_cpu_ms", "decode_tokens_per_s", "decode_new_tokens", "decode_cpu_us_per_token", "gflops",
		"lora_step_flops", "reps"}
	for _, k := range positive {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a positive number", k, res[k])
		}
	}
	if res["preset"] != "nano" || res["backend"] != "go" || res["lora_rank"] != 4.0 {
		t.Errorf("preset/backend/rank: %v %v %v", res["preset"], res["backend"], res["lora_rank"])
	}
	for _, k := range []string{"simd", "skip_identity_transposes"} {
		if _, ok := res[k].(bool); !ok {
			t.Errorf("%s = %v, want a bool", k, res[k])
		}
	}
	if res["skip_identity_transposes"] != true {
		t.Error("the default go backend should skip identity transposes")
	}
	if err := runCmd(&out, "bench", "engine", "--reps", "0"); err == nil {
		t.Error("--reps 0 accepted")
	}
}
