package models

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// llama32Rope is Llama-3.2-1B's rotary setup: head_dim 64, theta 500000, rope_scaling llama3 with factor 32,
// low_freq_factor 1, high_freq_factor 4, original_max_position_embeddings 8192.
const llama32Rope = `,"head_dim":64,"rope_theta":500000,"rope_scaling":{"factor":32.0,"high_freq_factor":4.0,
"low_freq_factor":1.0,"original_max_position_embeddings":8192,"rope_type":"llama3"}}`

// Hand-computed: inv_i = 500000^(−i/32), λ_i = 2π/inv_i; the bands are λ < 8192/4 = 2048 (kept) and
// λ > 8192/1 (÷32), so i ≤ 14 are kept, i ≥ 18 divided, and i = 15..17 interpolated with
// s = (8192/λ − 1)/3: e.g. i = 16: inv = 1/√500000 = 1.41421356e-3, λ = 4442.883, s = 0.2812830,
// inv·((1−s)/32 + s) = 1.41421356e-3 · 0.3037429 = 4.2955680e-4.
func TestRopeInvFreqLlama3(t *testing.T) {
	c, err := ParseHFConfig([]byte(baseConfigJSON+llama32Rope), "llama32.json")
	if err != nil {
		t.Fatal(err)
	}
	want := RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}
	if c.RopeScaling != want || c.HeadDim != 64 || c.RopeTheta != 5e5 {
		t.Fatalf("parsed %+v", c)
	}
	got := RopeInvFreq(c)
	if len(got) != 32 {
		t.Fatalf("%d frequencies, want 32", len(got))
	}
	for i, w := range map[int]float64{
		0:  1,                 // λ = 2π: kept
		14: 3.2114460e-3,      // λ = 1956.5 < 2048: kept (500000^(−14/32))
		15: 1.2905479e-3,      // λ = 2948.3: s = 0.6928 → 2.1311195e-3·(0.3072/32 + 0.6928)
		16: 4.2955680e-4,      // see above
		17: 9.7082878e-5,      // λ = 6695.1: s = 0.07452 → 9.3847387e-4·(0.92548/32 + 0.07452)
		18: 6.2277242e-4 / 32, // λ = 10089 > 8192: ÷32
		31: 3.0138582e-6 / 32, // λ = 2.08e6: ÷32
	} {
		if math.Abs(float64(got[i])-w) > 2e-7*w {
			t.Errorf("inv_freq[%d] = %.8g, want %.8g", i, got[i], w)
		}
	}
	// Without scaling the same config gives the default frequencies.
	c.RopeScaling = RopeScaling{}
	if d := RopeInvFreq(c); d[18] != float32(math.Pow(5e5, -18.0/32)) || d[0] != 1 {
		t.Errorf("default inv_freq[18] = %g", d[18])
	}
}

// The graph rotates by position·(scaled frequency): with head_dim 4 the second pair has inv = 1/√500000 in the
// interpolated band (as i = 16 above, 4.2955680e-4), so at position 1000 a unit vector on axis 1 becomes
// cos(0.42955680) on axis 1 and sin(0.42955680) on axis 3.
func TestRoPEAppliesScaling(t *testing.T) {
	cfg := Config{HeadDim: 4, RopeTheta: 5e5,
		RopeScaling: RopeScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPositions: 8192}}
	e, err := graph.NewExec(hfrefBackend(t), func(x, pos *graph.Node) *graph.Node { return RoPE(cfg, x, pos) })
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Call(tensors.FromFlatDataAndDimensions([]float32{0, 1, 0, 0}, 1, 1, 1, 4), []int32{1000})
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	want := []float64{0, 0.9091504, 0, 0.4164679} // cos/sin(1000·4.2955680e-4)
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 2e-5 {
			t.Errorf("RoPE out = %v, want %v", got, want)
			break
		}
	}
}

func TestRopeScalingRefused(t *testing.T) {
	base := baseConfigJSON + `,"head_dim":64,"rope_scaling":`
	for in, want := range map[string]string{
		`{"rope_type":"llama3","factor":32,"low_freq_factor":1,"high_freq_factor":4}}`:                                          "missing required key rope_scaling.original_max_position_embeddings",
		`{"rope_type":"llama3","factor":0.5,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":8192}}`: "factor 0.5 must be",
		`{"rope_type":"llama3","factor":8,"low_freq_factor":4,"high_freq_factor":4,"original_max_position_embeddings":8192}}`:   "greater than low_freq_factor",
		`{"rope_type":"llama3","factor":8,"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":0}}`:      "original_max_position_embeddings = 0",
		`{"rope_type":"dynamic","factor":2}}`: `rope_type "dynamic" is not supported`,
		`[1]}`:                                "rope_scaling must be an object",
	} {
		_, err := ParseHFConfig([]byte(base+in), "cfg.json")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "cfg.json: ") {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
	// transformers v5 puts the scaling under rope_parameters.
	c, err := ParseHFConfig([]byte(baseConfigJSON+`,"rope_parameters":{"rope_type":"llama3","rope_theta":500000,"factor":8,
"low_freq_factor":1,"high_freq_factor":4,"original_max_position_embeddings":8192}}`), "v5.json")
	if err != nil || c.RopeScaling.Factor != 8 || c.RopeTheta != 5e5 {
		t.Errorf("rope_parameters llama3: %+v, %v", c, err)
	}
}
