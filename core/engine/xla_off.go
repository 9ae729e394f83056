//go:build !xla

package engine

func checkConfig(name, config string) error { return nil }

// XLA reports whether this binary includes the XLA backend.
const XLA = false
