package models

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gomlx/compute"
)

// goStepFits says whether a model's one-token decode step runs in Go (decodestep.go): when its LM head is large
// enough that the graph's one-row product is the blocked kernel (matmulT: 4·V·H ≥ blockedMatmulMACs), which
// packs all of w every token (the head of a 0.5B model, 136 M floats, was ≈ 48 % of a decode step). Smaller
// models (nano, micro, the hf-reference ones) keep the graph step, whose padded tiled products are fast there.
// Only on the go backend: it shares its buffers with the host (the step reads the weights in place, where an
// accelerator's would be copied back), and it is the backend whose one-row products are slow.
func goStepFits(backend compute.Backend, cfg Config) bool {
	return backend != nil && backend.String() == "go" && minMatmulRows*cfg.VocabSize*cfg.HiddenSize >= blockedMatmulMACs
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

// matVecT returns w·h for w [out,in] (HF layout) and h [in].
func matVecT(w []float32, in int, h []float32) []float32 {
	out := make([]float32, len(w)/in)
	matVecInto(w, in, h, out)
	return out
}

// matVecInto writes w·h into out, splitting the rows over GOMAXPROCS goroutines in chunks of 4-row multiples
// (several per core, so a core slowed by other work takes fewer). Small products run on the caller alone.
func matVecInto(w []float32, in int, h, out []float32) {
	workers := runtime.GOMAXPROCS(0)
	if workers <= 1 || len(w) < 1<<16 {
		gemvRows(w, in, h, out)
		return
	}
	rows := len(out)
	chunk := max(16, (rows/(4*workers)+3)&^3)
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func() {
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= rows {
				return
			}
			hi := min(lo+chunk, rows)
			gemvRows(w[lo*in:hi*in], in, h, out[lo:hi])
		}
	}
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
