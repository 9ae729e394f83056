package cli

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// testDefaultConfig is the workbench.toml that main embeds.
var testDefaultConfig = func() []byte {
	b, err := os.ReadFile("../../workbench.toml")
	if err != nil {
		panic("the repository's workbench.toml: " + err.Error())
	}
	return b
}()

func newTestApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	return &app{defaultConfig: testDefaultConfig, stdin: stdin, stdout: stdout, stderr: stderr}
}

// runCmd runs one command line through the command tree, as Execute does,
// and returns the command's error instead of printing it.
func runCmd(stdout io.Writer, args ...string) error {
	return runCmdIn(nil, stdout, args...)
}

func runCmdIn(stdin io.Reader, stdout io.Writer, args ...string) error {
	root := newRoot(newTestApp(stdin, stdout, io.Discard))
	root.SetArgs(singleDashLongFlags(root, args))
	_, err := root.ExecuteC()
	return err
}

// execLine runs a command line as the process would and returns its exit
// status, stdout and stderr.
func execLine(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(newTestApp(nil, &out, &errOut), args)
	return code, out.String(), errOut.String()
}
