package cli

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// Ctrl-C cancels the command's context at once, and a command (or a Close)
// that does not return within interruptGrace is ended with status 130.
func TestInterruptCancelsThenForcesExit(t *testing.T) {
	exited := make(chan int, 1)
	exitProcess = func(code int) { exited <- code }
	defer func() { exitProcess = os.Exit }()
	ctx, stop := interruptible()
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGINT did not cancel the context")
	}
	stop() // the command returned; a hanging Close after it is still bounded
	select {
	case code := <-exited:
		if code != 130 {
			t.Fatalf("exit status %d, want 130", code)
		}
	case <-time.After(interruptGrace + 5*time.Second):
		t.Fatal("no forced exit after the grace period")
	}
}

// Without a signal, stop disarms everything: nothing exits the process.
func TestInterruptibleStopWithoutSignal(t *testing.T) {
	exited := make(chan int, 1)
	exitProcess = func(code int) { exited <- code }
	defer func() { exitProcess = os.Exit }()
	ctx, stop := interruptible()
	stop()
	if ctx.Err() == nil {
		t.Error("stop did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("exit(%d) without a signal", code)
	case <-time.After(100 * time.Millisecond):
	}
}
