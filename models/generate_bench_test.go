package models

import (
	"testing"

	"github.com/degaml/workbench/internal/procstat"
	"github.com/degaml/workbench/models/tokenizer"
)

// BenchmarkDecode times one KV-cached decode step (batch 1) of the nano preset; tokens/s = 1/(ns/op).
func BenchmarkDecode(b *testing.B) {
	cfg, _ := PresetConfig("nano")
	m := &Model{Config: cfg, Params: NewRandom(cfg, 1), Tokenizer: tokenizer.NewByte()}
	gen := NewGenerator(generateBackend(b), m)
	prompt := m.Tokenizer.Encode("The quick brown fox jumps.")[:16]
	var s *Session
	var logits []float32
	reset := func() {
		if s != nil {
			s.Close()
		}
		var err error
		if s, err = gen.NewSession(cfg.MaxPositions, nil, nil); err != nil {
			b.Fatal(err)
		}
		if logits, err = s.Feed(prompt); err != nil {
			b.Fatal(err)
		}
	}
	reset()
	if _, err := s.Feed([]int{1}); err != nil { // compile the one-token step outside the timer
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := procstat.CPU()
	for b.Loop() {
		if s.Pos >= s.S {
			b.StopTimer()
			reset()
			b.StartTimer()
		}
		var err error
		if logits, err = s.Feed([]int{Argmax(logits)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	// CPU time per token (all threads): the stable figure on a shared machine.
	b.ReportMetric(float64(procstat.CPU()-c0)/1e3/float64(b.N), "cpu-µs/token")
}
