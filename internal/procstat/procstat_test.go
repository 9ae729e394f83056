package procstat

import (
	"runtime"
	"testing"
	"time"
)

// spin burns CPU on this goroutine for at least d of wall time.
func spin(d time.Duration) (sink uint64) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 100000 {
			sink += uint64(i) * 2654435761
		}
	}
	return sink
}

func TestStopwatchCountsWallAndCPU(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no getrusage")
	}
	sw := Start()
	time.Sleep(50 * time.Millisecond)
	spin(100 * time.Millisecond)
	wall, cpu := sw.Read()
	if wall < 0.15 {
		t.Errorf("wall %.3f s after sleeping 50 ms and spinning 100 ms", wall)
	}
	// CPU time is the whole process's, so only a lower bound holds: the spin
	// ran at least a little on a CPU, however loaded the machine is.
	if cpu <= 0 {
		t.Errorf("cpu %.3f s after spinning", cpu)
	}
}

func TestStatusMB(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/self/status is Linux's")
	}
	rss, peak := StatusMB("VmRSS"), StatusMB("VmHWM")
	if rss <= 0 || peak < rss {
		t.Errorf("VmRSS %.1f MB, VmHWM %.1f MB: want 0 < RSS <= peak", rss, peak)
	}
	if v := StatusMB("NoSuchField"); v != 0 {
		t.Errorf("unknown field read as %v", v)
	}
}
