//go:build unix

package procstat

import (
	"syscall"
	"time"
)

// CPU is the user+system CPU time of this process so far; 0 if it cannot be
// read.
func CPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
