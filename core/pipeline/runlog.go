package pipeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/degaml/workbench/core/events"
)

// runLog keeps every event (a lossless subscriber) as JSON lines in
// <workdir>/logs/events-<start>.jsonl, so nothing a display coalesced away is
// lost and a crashed session can be read back.
type runLog struct {
	sub  *events.Subscription
	f    *os.File
	w    *bufio.Writer
	done chan struct{}
	once sync.Once
}

func openRunLog(bus *events.Bus, dir string) (*runLog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, fmt.Sprintf("events-%s-%d.jsonl", time.Now().Format("20060102-150405"), os.Getpid()))
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	l := &runLog{sub: bus.Subscribe(events.Lossless), f: f, w: bufio.NewWriter(f), done: make(chan struct{})}
	go l.loop()
	return l, nil
}

func (l *runLog) loop() {
	defer close(l.done)
	enc := json.NewEncoder(l.w)
	for {
		evs, ok := l.sub.Wait()
		for _, e := range evs {
			_ = enc.Encode(events.JSONSafe(e)) // NaN would make Encode fail and lose the event
		}
		// Flush per batch: a crash loses at most the batch being written.
		_ = l.w.Flush()
		if !ok {
			return
		}
	}
}

// Close drains pending events and closes the file.
func (l *runLog) Close() error {
	var err error
	l.once.Do(func() {
		l.sub.Close()
		<-l.done
		err = l.f.Close()
	})
	return err
}
