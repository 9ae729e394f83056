package models

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestMatmulTOneRow checks every branch of matmulT for a decode step (one row) against x·wᵀ summed in float64
// in Go: the padded Dot (small w), w·xᵀ under the blocked-kernel switch, Mul+ReduceSum past it and w·xᵀ past
// the Mul+ReduceSum cap.
func TestMatmulTOneRow(t *testing.T) {
	const in = 64
	for _, out := range []int{
		8,                                        // padded Dot
		blockedMatmulMACs/(minMatmulRows*in) + 1, // w·xᵀ, unblocked
		blockedMatmulMACs/in + 1,                 // Mul+ReduceSum
		maxMulReduceElems/in + 1,                 // w·xᵀ, blocked
	} {
		xd := make([]float32, in)
		for i := range xd {
			xd[i] = float32(i%9-4) * 0.25
		}
		wd := make([]float32, out*in)
		for i := range wd {
			wd[i] = float32((i*7)%13-6) * 0.125
		}
		e, err := graph.NewExec(generateBackend(t), matmulT)
		if err != nil {
			t.Fatal(err)
		}
		res := e.MustExec(tensors.FromFlatDataAndDimensions(xd, 1, in), tensors.FromFlatDataAndDimensions(wd, out, in))[0]
		if d := res.Shape().Dimensions; len(d) != 2 || d[0] != 1 || d[1] != out {
			t.Fatalf("out=%d: shape %s, want [1,%d]", out, res.Shape(), out)
		}
		got := tensors.MustCopyFlatData[float32](res)
		for o := range out {
			want := 0.0
			for k := range in {
				want += float64(xd[k]) * float64(wd[o*in+k])
			}
			if math.Abs(float64(got[o])-want) > 1e-4 {
				t.Fatalf("out=%d: y[%d] = %g, want %g", out, o, got[o], want)
			}
		}
	}
}
