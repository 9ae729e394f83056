// Package applog builds the program's loggers: every log line of the
// workbench goes through charmbracelet/log (levels, key-value pairs, the
// same look in the server and in the TUI's --debug file), made here so the
// format is decided once.
package applog

import (
	"io"

	"github.com/charmbracelet/log"
)

// TimeFormat has milliseconds: a debug log orders key presses and events
// that are a few milliseconds apart.
const TimeFormat = "2006-01-02 15:04:05.000"

// New returns a logger writing to w at info level (SetLevel(log.DebugLevel)
// for a debug log); prefix names the part of the program ("serve", "tui").
func New(w io.Writer, prefix string) *log.Logger {
	return log.NewWithOptions(w, log.Options{ReportTimestamp: true, TimeFormat: TimeFormat, Prefix: prefix})
}
