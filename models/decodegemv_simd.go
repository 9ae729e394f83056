//go:build amd64 && goexperiment.simd

package models

import "simd/archsimd"

// hasGemvSIMD: the kernel below needs AVX2 (8-wide float32 FMA).
var hasGemvSIMD = archsimd.X86.AVX2()

// gemvRows computes out[o] = w[o·in : (o+1)·in] · x for every row o of out, 4 rows per pass so each 8-wide slice
// of x is loaded once for 4 rows: the product is bound by reading w, which is touched exactly once.
func gemvRows(w []float32, in int, x, out []float32) {
	if !hasGemvSIMD {
		gemvRowsScalar(w, in, x, out)
		return
	}
	n := len(out)
	body := in &^ 7
	o := 0
	var lanes [8]float32
	for ; o+4 <= n; o += 4 {
		r0, r1, r2, r3 := w[o*in:(o+1)*in], w[(o+1)*in:(o+2)*in], w[(o+2)*in:(o+3)*in], w[(o+3)*in:(o+4)*in]
		var a0, a1, a2, a3 archsimd.Float32x8
		for k := 0; k < body; k += 8 {
			xv := archsimd.LoadFloat32x8(x[k : k+8])
			a0 = archsimd.LoadFloat32x8(r0[k:k+8]).MulAdd(xv, a0)
			a1 = archsimd.LoadFloat32x8(r1[k:k+8]).MulAdd(xv, a1)
			a2 = archsimd.LoadFloat32x8(r2[k:k+8]).MulAdd(xv, a2)
			a3 = archsimd.LoadFloat32x8(r3[k:k+8]).MulAdd(xv, a3)
		}
		for j, a := range [4]archsimd.Float32x8{a0, a1, a2, a3} {
			a.Store(lanes[:])
			s := ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
			row := w[(o+j)*in : (o+j+1)*in]
			for k := body; k < in; k++ {
				s += row[k] * x[k]
			}
			out[o+j] = s
		}
	}
	if o < n {
		gemvRowsScalar(w[o*in:], in, x, out[o:])
	}
}
