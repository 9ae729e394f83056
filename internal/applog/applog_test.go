package applog

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/charmbracelet/log"
)

func TestNewWritesTimestampPrefixAndPairs(t *testing.T) {
	var b bytes.Buffer
	l := New(&b, "serve")
	l.Debug("hidden at info level")
	l.Info("session refused", "user", "ann")
	got := b.String()
	re := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO serve: session refused user=ann\n$`)
	if !re.MatchString(got) {
		t.Errorf("line %q does not match %v", got, re)
	}
	b.Reset()
	l.SetLevel(log.DebugLevel)
	l.Debugf("pane %s", "Adapt")
	if !bytes.Contains(b.Bytes(), []byte("DEBU serve: pane Adapt")) {
		t.Errorf("debug line %q", b.String())
	}
}
