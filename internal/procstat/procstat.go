// Package procstat reads this process's own resource use for the commands
// and tests that measure it: CPU time, which unlike wall time shows the work
// done whatever else loads a shared machine, and memory from
// /proc/self/status.
package procstat

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// StatusMB reads a kB field (VmRSS, VmHWM) of /proc/self/status in MB; 0
// where there is no /proc or no such field.
func StatusMB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1000
		}
	}
	return 0
}

// Stopwatch measures the wall and CPU time (of the whole process) since it
// was started.
type Stopwatch struct {
	wall time.Time
	cpu  time.Duration
}

// Start starts a Stopwatch.
func Start() Stopwatch { return Stopwatch{wall: time.Now(), cpu: CPU()} }

// Read is the wall and CPU seconds since the start.
func (s Stopwatch) Read() (wallS, cpuS float64) {
	return time.Since(s.wall).Seconds(), (CPU() - s.cpu).Seconds()
}
