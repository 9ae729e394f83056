package cli

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/tui/serve"
)

func TestServeFlagsOverrideConfig(t *testing.T) {
	cfg, err := config.Load(testDefaultConfig, "")
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	var o serveOptions
	o.register(fs)
	if err := fs.Parse([]string{"--listen", "127.0.0.1:2200", "--max-sessions", "3", "--idle-timeout", "2m", "--allow-any-key"}); err != nil {
		t.Fatal(err)
	}
	want := cfg.Serve
	o.apply(fs.Changed, &cfg.Serve)
	want.Listen, want.MaxSessions, want.IdleTimeout.Duration, want.AllowAnyKey = "127.0.0.1:2200", 3, 2*time.Minute, true
	if cfg.Serve != want {
		t.Fatalf("serve config = %+v, want %+v (unset flags must keep the config)", cfg.Serve, want)
	}
}

func TestServeRefusesBadInvocations(t *testing.T) {
	if err := runCmd(io.Discard, "serve", "--config", "/nonexistent/none.toml"); err == nil {
		t.Fatal("missing --config file accepted")
	}
	if err := runCmd(io.Discard, "serve", "--listen", "127.0.0.1:0"); !errors.Is(err, serve.ErrNoAuthorizedKeys) {
		t.Fatalf("no authorized keys: %v", err)
	}
	if err := runCmd(io.Discard, "serve", "--allow-any-key", "tasks.json"); err == nil || !strings.Contains(err.Error(), "unexpected argument") {
		t.Fatalf("positional argument: %v", err)
	}
	if err := runCmd(io.Discard, "serve", "--allow-any-key", "--max-sessions", "0"); err == nil {
		t.Fatal("--max-sessions 0 accepted")
	}
}
