//go:build !(amd64 && goexperiment.simd)

package models

// gemvRows computes out[o] = w[o·in : (o+1)·in] · x for every row o of out (no SIMD on this build).
func gemvRows(w []float32, in int, x, out []float32) { gemvRowsScalar(w, in, x, out) }
