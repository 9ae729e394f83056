//go:build unix

package train

import (
	"syscall"
	"time"
)

// processCPU is the user+system CPU time of this process so far: on a shared machine it shows how much
// compute a step needs, independently of how much of the CPUs the other processes leave us.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
