package models

import (
	"runtime"
	"sync"

	"github.com/gomlx/gomlx/core/tensors"
)

// A decode step's LM head runs in Go over the weight's own buffer instead of in the step graph, when the head
// is large enough that the graph's one-row product is the blocked kernel (matmulT: 4·V·H ≥ blockedMatmulMACs).
// That kernel packs all of w on every call (the head of a 0.5B model, 136 M floats, was ≈ 48 % of a decode
// step); here each weight is read once, 4 rows at a time, on every core. Smaller heads (nano, micro, the
// hf-reference models) stay in the graph, where the padded tiled product is already fast.
func goHeadFits(cfg Config) bool {
	return minMatmulRows*cfg.VocabSize*cfg.HiddenSize >= blockedMatmulMACs
}

// gemvRowsScalar is the portable form of gemvRows.
func gemvRowsScalar(w []float32, in int, x, out []float32) {
	for o := range out {
		row := w[o*in : (o+1)*in]
		var s float32
		for k, v := range row {
			s += v * x[k]
		}
		out[o] = s
	}
}

// gemvChunk is the number of output rows one goroutine takes at a time: large enough that scheduling is
// negligible, small enough that the cores finish together.
const gemvChunk = 4096

// matVecT returns w·h for w [out,in] (HF layout) and h [in], splitting the rows over GOMAXPROCS goroutines.
func matVecT(w []float32, in int, h []float32) []float32 {
	out := make([]float32, len(w)/in)
	workers := min(runtime.GOMAXPROCS(0), (len(out)+gemvChunk-1)/gemvChunk)
	if workers <= 1 {
		gemvRows(w, in, h, out)
		return out
	}
	var next sync.Mutex
	start := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				next.Lock()
				lo := start
				start += gemvChunk
				next.Unlock()
				if lo >= len(out) {
					return
				}
				hi := min(lo+gemvChunk, len(out))
				gemvRows(w[lo*in:hi*in], in, h, out[lo:hi])
			}
		})
	}
	wg.Wait()
	return out
}

// headLogits computes the logits [V] of one final hidden state h [H] with the model's LM head (the embedding
// matrix when tied), reading the head tensor's buffer in place.
func headLogits(m *Model, h []float32) ([]float32, error) {
	var logits []float32
	err := tensors.ConstFlatData(m.Params[headName(m.Config)], func(w []float32) {
		logits = matVecT(w, m.Config.HiddenSize, h)
	})
	return logits, err
}
