package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/degaml/workbench/core/config"
	"github.com/degaml/workbench/core/pipeline"
	"github.com/degaml/workbench/internal/applog"
	"github.com/degaml/workbench/tui/serve"
)

// shutdownTimeout bounds the goodbye: sessions get their farewell, then
// connections still open are cut.
const shutdownTimeout = 10 * time.Second

// serveOptions are `workbench serve`'s own flags; set ones override [serve].
type serveOptions struct {
	listen, hostKey, authKeys string
	adminKeys                 string
	anyKey                    bool
	maxSessions, workers      int
	idle                      time.Duration
}

func (o *serveOptions) register(fs *pflag.FlagSet) {
	fs.StringVar(&o.listen, "listen", "", "address to listen on (default [serve] listen, 127.0.0.1:2222)")
	fs.StringVar(&o.hostKey, "host-key", "", "host private key, generated (ed25519) when missing (default <workdir>/ssh/host_ed25519)")
	fs.StringVar(&o.authKeys, "authorized-keys", "", "authorized_keys file: the public keys allowed in (required unless --allow-any-key)")
	fs.StringVar(&o.adminKeys, "admin-keys", "", "authorized_keys-format `file` of keys whose seats may open the admin view (ctrl+a: seats, tasks, queue)")
	fs.BoolVar(&o.anyKey, "allow-any-key", false, "accept ANY public key (throwaway demos on a trusted network only)")
	fs.IntVar(&o.maxSessions, "max-sessions", 0, "concurrent sessions (default [serve] max_sessions)")
	fs.DurationVar(&o.idle, "idle-timeout", 0, "disconnect after this long without input, e.g. 15m; 0s = never (default [serve] idle_timeout)")
	fs.IntVar(&o.workers, "workers", 0, "jobs run at once on the shared engine (default [serve] workers)")
}

// apply copies the flags the user actually set (changed reports them) onto
// the config.
func (o *serveOptions) apply(changed func(name string) bool, c *config.Serve) {
	if changed("listen") {
		c.Listen = o.listen
	}
	if changed("host-key") {
		c.HostKey = o.hostKey
	}
	if changed("authorized-keys") {
		c.AuthorizedKeys = o.authKeys
	}
	if changed("allow-any-key") {
		c.AllowAnyKey = o.anyKey
	}
	if changed("max-sessions") {
		c.MaxSessions = o.maxSessions
	}
	if changed("idle-timeout") {
		c.IdleTimeout.Duration = o.idle
	}
	if changed("workers") {
		c.Workers = o.workers
	}
}

// newServeCmd is `workbench serve [flags]`.
func newServeCmd(a *app) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "serve the TUI over SSH to many users sharing one engine",
		Args:  noArgs("serve: unexpected argument %q (task files cannot be served; see `workbench serve -h`)"),
	}
	cmd.RunE = func(*cobra.Command, []string) error { return a.serve(&o, cmd.Flags().Changed) }
	a.registerBackend(cmd.Flags())
	o.register(cmd.Flags())
	return cmd
}

func (a *app) serve(o *serveOptions, changed func(name string) bool) error {
	cfg, err := a.load()
	if err != nil {
		return err
	}
	o.apply(changed, &cfg.Serve)
	sc := cfg.Serve
	switch {
	case sc.MaxSessions < 1:
		return fmt.Errorf("serve: --max-sessions must be at least 1, got %d", sc.MaxSessions)
	case sc.Workers < 1:
		return fmt.Errorf("serve: --workers must be at least 1, got %d", sc.Workers)
	case sc.IdleTimeout.Duration < 0:
		return fmt.Errorf("serve: --idle-timeout must not be negative, got %v", sc.IdleTimeout.Duration)
	case sc.AuthorizedKeys == "" && !sc.AllowAnyKey:
		return serve.ErrNoAuthorizedKeys
	}

	logger := applog.New(a.stderr, "serve")
	wb, err := pipeline.Open(cfg, a.workdir) // one engine per server; Open reads Serve.Workers
	if err != nil {
		return err
	}
	defer wb.Close()
	hostKey := sc.HostKey
	if hostKey == "" {
		hostKey = filepath.Join(wb.Workdir(), "ssh", "host_ed25519")
	}
	srv, err := serve.New(serve.Config{
		Listen:             sc.Listen,
		HostKeyPath:        hostKey,
		AuthorizedKeysPath: sc.AuthorizedKeys,
		AdminKeysPath:      o.adminKeys,
		AllowAnyKey:        sc.AllowAnyKey,
		MaxSessions:        sc.MaxSessions,
		IdleTimeout:        sc.IdleTimeout.Duration,
		Theme:              cfg.TUI.Theme,
		Mouse:              cfg.TUI.Mouse,
		Engine:             wb,
		ForSession:         func(name string) serve.SessionEngine { return wb.ForSession(name) },
		Scheduler:          wb.Scheduler(),
		Logger:             logger,
	})
	if err != nil {
		return err
	}
	if srv.HostKeyGenerated {
		logger.Info("generated a new host key", "path", hostKey)
	}

	// The drain below is bounded by shutdownTimeout; the watchdog waits for it.
	ctx, stop := interruptibleWithin(shutdownTimeout + time.Second)
	defer stop()
	// The shared models train once, in the background, before anyone asks.
	wb.StartPipeline(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err // could not listen
	case <-ctx.Done():
	}
	stop()
	logger.Info("shutting down: saying goodbye to sessions", "sessions", srv.Sessions(), "drain-timeout", shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	// A second Ctrl-C (or SIGTERM) cuts the drain short but never kills the
	// process outright: Shutdown still restores every client's terminal
	// before closing its connection.
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	go func() {
		select {
		case <-again:
			logger.Warn("second signal: ending the drain now (terminals are still restored)")
			cancel()
		case <-sctx.Done():
		}
	}()
	err = srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, ssh.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}
