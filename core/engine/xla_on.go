//go:build xla

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/gomlx/go-xla/compute/xla" // registers "xla" (cgo)
)

// XLA reports whether this binary includes the XLA backend.
const XLA = true

func init() {
	// Never let go-xla try to download a plugin: this workbench runs offline.
	os.Setenv("GOMLX_NO_AUTO_INSTALL", "1")
}

// checkConfig insists on an absolute plugin path for xla, so that a missing
// plugin is a clear error instead of an install attempt.
func checkConfig(name, config string) error {
	if name != "xla" {
		return nil
	}
	_, plugin, _ := strings.Cut(config, ":")
	if plugin == "" || !filepath.IsAbs(plugin) {
		return fmt.Errorf("backend %q: give the PJRT plugin as an absolute path, e.g. xla:/abs/path/xla_cuda_plugin.so", config)
	}
	if _, err := os.Stat(plugin); err != nil {
		return fmt.Errorf("backend %q: %v", config, err)
	}
	return nil
}
