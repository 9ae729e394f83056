// Command demo runs the TUI against the scripted fake engine (events
// streamed with a delay), for trying the UI without the core:
//
//	go run ./tui/internal/demo -theme light -mouse
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/degaml/workbench/tui"
	"github.com/degaml/workbench/tui/internal/fakeengine"
)

func main() {
	theme := flag.String("theme", "", "theme name or TOML path")
	mouse := flag.Bool("mouse", true, "mouse wheel and click-to-focus")
	debug := flag.String("debug", "", "debug log file")
	delay := flag.Duration("delay", 150*time.Millisecond, "pause between fake events")
	flag.Parse()
	eng := fakeengine.New()
	eng.Sync, eng.Delay, eng.Steps = false, *delay, 40
	if err := tui.Run(context.Background(), eng, tui.Options{Theme: *theme, Mouse: *mouse, DebugLog: *debug}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
