package train

import (
	"testing"
	"time"

	"github.com/degaml/workbench/models"
)

// BenchmarkLoRAStep times one LoRA-only train step of the nano preset on a batch of 8 × 64 tokens.
func BenchmarkLoRAStep(b *testing.B) {
	cfg, _ := models.PresetConfig("nano")
	step, err := NewLoRAStep(testBackend(b), cfg, BenchLoRA, DefaultAdam())
	if err != nil {
		b.Fatal(err)
	}
	base := models.NewRandom(cfg, 1)
	ad := models.NewAdapter(cfg, BenchLoRA, 1)
	st := NewAdamState(ad.Params)
	batch := BenchBatch(8, 64, 1)
	if _, err := step.Run(base, ad.Params, st, batch, Hyper{LR: 1e-4}); err != nil { // compile outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		if _, err := step.Run(base, ad.Params, st, batch, Hyper{LR: 1e-4}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
	b.ReportMetric(3*ForwardFLOPs(cfg, &BenchLoRA, 8, 64)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkFullStep times one full fine-tuning step on the same batch.
func BenchmarkFullStep(b *testing.B) {
	cfg, _ := models.PresetConfig("nano")
	step, err := NewFullStep(testBackend(b), cfg, DefaultAdam())
	if err != nil {
		b.Fatal(err)
	}
	p := models.NewRandom(cfg, 1)
	st := NewAdamState(p)
	batch := BenchBatch(8, 64, 1)
	if _, err := step.Run(nil, p, st, batch, Hyper{LR: 1e-4}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		if _, err := step.Run(nil, p, st, batch, Hyper{LR: 1e-4}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}

// reportCPU adds the process CPU time per step (all threads) since c0: on a shared machine it is the
// stable figure, and CPU/wall shows how many cores a step keeps busy.
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(processCPU()-c0)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkMicroLoRAStep times one LoRA-only train step of the micro preset (4 layers × 256) on 8 × 64 tokens.
func BenchmarkMicroLoRAStep(b *testing.B) {
	cfg, _ := models.PresetConfig("micro")
	step, err := NewLoRAStep(testBackend(b), cfg, BenchLoRA, DefaultAdam())
	if err != nil {
		b.Fatal(err)
	}
	base := models.NewRandom(cfg, 1)
	ad := models.NewAdapter(cfg, BenchLoRA, 1)
	st := NewAdamState(ad.Params)
	batch := BenchBatch(8, 64, 1)
	if _, err := step.Run(base, ad.Params, st, batch, Hyper{LR: 1e-4}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := processCPU()
	for b.Loop() {
		if _, err := step.Run(base, ad.Params, st, batch, Hyper{LR: 1e-4}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, c0)
}
