package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// e2eConfig makes every training stage tiny, so that the base model, DeGAML's
// meta-training (collect → generator → policy) and the baselines' meta-training
// that the pipeline runs first take well under a minute on two cores. The
// accuracies are then meaningless; the test checks the wiring, not the numbers.
const e2eConfig = `[pipeline]
pretrain_steps = 20
pretrain_batch = 4
train_instances = 1

[adapt]
inner_steps = 2
support = 8

[methods.nometa-lora]
steps = 4

[methods.union-lora]
steps = 4

[methods.maml-en-llm]
meta_steps = 2
tasks_per_step = 2
inner_steps = 1

[methods.abmll]
meta_steps = 2
tasks_per_step = 2
inner_steps = 1

[methods.degaml]
collect_tasks = 3
collect_pre_steps = 4
collect_fine_steps = 2
gen_steps = 10
policy_tasks = 1
policy_iterations = 1
policy_hypotheses = 8
adapt_top_k = 1
`

// e2eBudget bounds the whole test; the pipeline normally finishes in about
// a minute, but the machine may be shared.
const e2eBudget = 9 * time.Minute

// TestE2ETUI drives the real binary in tmux at 120×40: pick math-mc, adapt
// in decoupled mode, toggle to generalization-only, ask a multiple-choice
// question in chat, compare both modes, tick a baseline and switch task,
// resize to 80×24, and quit. It needs tmux and about a
// minute on two idle cores (the budget allows for a loaded machine); run it
// with
//
//	GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd go test -run TestE2ETUI -v -timeout 15m .
func TestE2ETUI(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e TUI test: builds the binary and trains tiny models (about a minute); skipped with -short")
	}
	tmuxBin, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("e2e TUI test needs tmux on PATH")
	}
	budget := e2eBudget
	if dl, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(dl)-30*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()

	dir := t.TempDir()
	bin := filepath.Join(dir, "workbench")
	// The environment is inherited, GOEXPERIMENT included.
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "e2e.toml")
	if err := os.WriteFile(cfg, []byte(e2eConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	debugLog := filepath.Join(dir, "tui-debug.log")

	s := &tmuxSession{t: t, bin: tmuxBin, socket: fmt.Sprintf("wb-e2e-%d-%d", os.Getpid(), time.Now().UnixNano()), name: "wb"}
	t.Cleanup(s.kill)
	// The shell prints the exit status and keeps the pane open, so the test
	// can see that the workbench exited and how.
	cmd := fmt.Sprintf("%s --config %s --workdir %s --debug %s; echo WORKBENCH-EXITED=$?; sleep 600",
		shellQuote(bin), shellQuote(cfg), shellQuote(work), shellQuote(debugLog))
	s.run("new-session", "-d", "-s", s.name, "-x", "120", "-y", "40", "-c", dir, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last screen:\n%s", s.capture())
			if b, err := os.ReadFile(debugLog); err == nil {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("TUI debug log (last lines):\n%s", strings.Join(lines[max(0, len(lines)-30):], "\n"))
			}
		}
	})

	start := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }

	// 1. The task picker lists the suites.
	suites := regexp.MustCompile(`\d+ suites`)
	s.waitFor(ctx, "the task picker", func(sc string) bool {
		return strings.Contains(sc, "1 Tasks") && suites.MatchString(sc)
	})
	step("picker shown")

	// 2. Filter to math-mc, accept the filter, pick it. (The TUI also copes
	// with "/math-mc" arriving as one read; waiting keeps the test simple.)
	s.keys("/")
	s.waitFor(ctx, "the filter prompt", func(sc string) bool { return strings.Contains(sc, "Filter:") })
	s.literal("math-mc")
	// Fuzzy matching may keep other suites (gsm-mc); the exact name ranks first.
	s.waitFor(ctx, "the filter to match", func(sc string) bool {
		return strings.Contains(sc, "Filter: math-mc") && strings.Contains(sc, " filtered")
	})
	s.keys("Enter") // accept the filter
	s.waitFor(ctx, "the filter to be applied", func(sc string) bool {
		return !strings.Contains(sc, "Filter:") && strings.Contains(sc, "┃ [OOD] math-mc")
	})
	s.keys("Enter") // adapt to the selected suite
	s.waitFor(ctx, "the Adapt pane on math-mc", func(sc string) bool {
		return strings.Contains(sc, "Task: math-mc") && strings.Contains(sc, "Mode: decoupled")
	})
	step("adapting to math-mc (decoupled); the pipeline trains first")

	// 3. The decoupled run's result (after the pipeline has trained).
	resultRE := regexp.MustCompile(`Result: acc (\d\.\d{3}) \(n=(\d+)\)`)
	sc := s.waitForWithin(ctx, budget, "the decoupled result", func(sc string) bool {
		return strings.Contains(sc, "Mode: decoupled") && resultRE.MatchString(sc)
	})
	step("decoupled: " + resultRE.FindString(sc))
	if !strings.Contains(sc, "Family: ") {
		t.Errorf("the decoupled run shows no chosen hypothesis:\n%s", sc)
	}

	// 4. Toggle to generalization-only: a second run, its own result.
	s.keys("m")
	sc = s.waitForWithin(ctx, 3*time.Minute, "the generalization-only result", func(sc string) bool {
		return strings.Contains(sc, "Mode: generalization-only") && resultRE.MatchString(sc)
	})
	step("generalization-only: " + resultRE.FindString(sc))

	// 5. Chat: a multiple-choice question in the current mode. i focuses
	// the input (digits switch panes until then); ctrl+j is a newline,
	// enter sends.
	s.keys("4")
	s.waitFor(ctx, "the chat pane", func(sc string) bool { return strings.Contains(sc, "i or enter to type") })
	s.keys("i")
	s.waitFor(ctx, "the chat input", func(sc string) bool { return strings.Contains(sc, "enter send") })
	// The built-in word model reads only its vocabulary: a math-mc question in its words.
	s.typeLines("solve : x plus two = ?", "A: three", "B: four", "C: five", "D: six")
	s.waitFor(ctx, "the typed prompt", func(sc string) bool { return strings.Contains(sc, "┃ D: six") })
	s.keys("Enter")
	genLabel := regexp.MustCompile(`generalization-only · degaml-gen on math-mc#\d+ · [\d.]+ tok/s`)
	bars := regexp.MustCompile(`(?m)^[A-D] [█░]+ \d\.\d\d *$`)
	sc = s.waitForWithin(ctx, 3*time.Minute, "the answer with its label and option bars", func(sc string) bool {
		return genLabel.MatchString(sc) && strings.Contains(sc, "P(option)") && len(bars.FindAllString(sc, -1)) == 4
	})
	step("answer: " + genLabel.FindString(sc))

	// 6. Compare: the same question to both modes, side by side.
	s.typeLines("solve : y times two = ?", "A: two", "B: four", "C: six", "D: eight")
	s.waitFor(ctx, "the second prompt", func(sc string) bool { return strings.Contains(sc, "┃ D: eight") })
	s.keys("C-r")
	decLabel := regexp.MustCompile(`decoupled · degaml on math-mc#\d+`)
	// The two answers' bars side by side, on the same rows.
	pairs := regexp.MustCompile(`(?m)^[A-D] [█░]+ \d\.\d\d +[A-D] [█░]+ \d\.\d\d *$`)
	s.waitForWithin(ctx, 3*time.Minute, "both modes' answers", func(sc string) bool {
		return decLabel.MatchString(sc) && len(pairs.FindAllString(sc, -1)) == 4
	})
	step("compare shown")

	// 7. Leave the input (wait for it: esc followed at once by q reads as
	// alt+q). Tick a baseline on Adapt, then switch task on the picker:
	// the ticked baseline runs on the new task too.
	s.keys("Escape")
	s.waitFor(ctx, "the input to lose focus", func(sc string) bool { return strings.Contains(sc, "i or enter to type") })
	s.keys("3")
	s.waitFor(ctx, "the Adapt pane", func(sc string) bool { return strings.Contains(sc, "[3 Adapt]") })
	s.keys("b")
	s.waitFor(ctx, "the baseline list", func(sc string) bool { return strings.Contains(sc, "Baselines on the chart") })
	s.keys("Space") // the first baseline: nometa-lora
	s.waitFor(ctx, "nometa-lora ticked", func(sc string) bool { return strings.Contains(sc, "[x] nometa-lora") })
	s.keys("Escape") // wait for it: esc then at once 1 reads as alt+1
	s.waitFor(ctx, "the baseline list to close", func(sc string) bool { return !strings.Contains(sc, "Baselines on the chart") })
	s.keys("1")
	s.waitFor(ctx, "the picker", func(sc string) bool { return strings.Contains(sc, "[1 Tasks]") })
	s.keys("Escape") // clear the math-mc filter
	s.waitFor(ctx, "the whole list", func(sc string) bool { return !strings.Contains(sc, "filtered") })
	s.keys("Enter") // the first suite, in-domain: not math-mc
	// The baseline's result, in the legend.
	baseline := regexp.MustCompile(`nometa-lora (acc → test|test acc) \d\.\d{3}`)
	sc = s.waitForWithin(ctx, 3*time.Minute, "the ticked baseline's result on the new task", func(sc string) bool {
		return strings.Contains(sc, "Task: ") && !strings.Contains(sc, "Task: math-mc") && baseline.MatchString(sc)
	})
	step("task switch ran the ticked baseline: " + baseline.FindString(sc))

	// 8. Resize to 80×24: the footer keeps help and quit, the active tab
	// stays marked without colour.
	s.run("resize-window", "-t", s.name, "-x", "80", "-y", "24")
	s.waitFor(ctx, "the 80×24 layout", func(sc string) bool {
		return strings.Contains(sc, "? help • q quit") && strings.Contains(sc, "[3 Adapt]")
	})
	step("80×24 layout holds")

	// 9. Quit: q (and y if the pipeline still trains baselines: q asks).
	s.keys("q")
	sc = s.waitFor(ctx, "the workbench to exit or ask", func(sc string) bool {
		return strings.Contains(sc, "WORKBENCH-EXITED=") || strings.Contains(sc, "Quit while the pipeline trains")
	})
	if !strings.Contains(sc, "WORKBENCH-EXITED=") {
		s.keys("y")
	}
	sc = s.waitFor(ctx, "the workbench to exit", func(sc string) bool { return strings.Contains(sc, "WORKBENCH-EXITED=") })
	if !strings.Contains(sc, "WORKBENCH-EXITED=0") {
		t.Fatalf("workbench exited with an error:\n%s", sc)
	}
	step("exited with status 0")
}

// tmuxSession is one detached tmux session on a private server socket.
type tmuxSession struct {
	t                 *testing.T
	bin, socket, name string
}

func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.bin, append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// keys sends tmux key names ("Enter", "Escape", "C-j", "m").
func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", s.name}, keys...)...)
}

// literal types text as is.
func (s *tmuxSession) literal(text string) {
	s.t.Helper()
	s.run("send-keys", "-t", s.name, "-l", text)
}

// typeLines types a multi-line chat prompt: ctrl+j between the lines, as
// enter would send it.
func (s *tmuxSession) typeLines(lines ...string) {
	s.t.Helper()
	for i, line := range lines {
		if i > 0 {
			s.keys("C-j")
		}
		s.literal(line)
	}
}

func (s *tmuxSession) capture() string {
	out, err := exec.Command(s.bin, "-L", s.socket, "capture-pane", "-p", "-t", s.name).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(capture-pane: %v: %s)", err, out)
	}
	return string(out)
}

// uiWait bounds a wait for the UI itself (not for training): a key that
// went astray fails in seconds, not at the end of the budget.
const uiWait = 45 * time.Second

// waitFor polls the screen until ok accepts it, and returns that screen; it
// fails the test when ctx ends first or the workbench exits before.
func (s *tmuxSession) waitFor(ctx context.Context, what string, ok func(screen string) bool) string {
	s.t.Helper()
	return s.waitForWithin(ctx, uiWait, what, ok)
}

// waitForWithin is waitFor with its own bound d (ctx still applies).
func (s *tmuxSession) waitForWithin(ctx context.Context, d time.Duration, what string, ok func(screen string) bool) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		sc := s.capture()
		if ok(sc) {
			return sc
		}
		if strings.Contains(sc, "WORKBENCH-EXITED=") {
			s.t.Fatalf("the workbench exited while waiting for %s:\n%s", what, sc)
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func (s *tmuxSession) kill() {
	_ = exec.Command(s.bin, "-L", s.socket, "kill-server").Run()
}

// shellQuote quotes a path for the shell tmux runs the command with.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
