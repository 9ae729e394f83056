//go:build !goexperiment.simd

package cli

// simdBuild reports whether this binary was built with GOEXPERIMENT=simd (the go backend's AVX2/AVX-512
// matmul kernels are only compiled in then).
const simdBuild = false
