//go:build !unix

package procstat

import "time"

// CPU is 0 where getrusage does not exist: callers report wall time only.
func CPU() time.Duration { return 0 }
