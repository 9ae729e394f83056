package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/degaml/workbench/core/api"
	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/core/meta"
	"github.com/degaml/workbench/core/train"
	"github.com/degaml/workbench/models"
	"github.com/degaml/workbench/models/tokenizer"
	"github.com/degaml/workbench/tasks"
	"github.com/degaml/workbench/tasks/suites"
)

// Adapt runs one method on one task in the background; its step events and
// final result carry Run == the returned id.
func (w *Workbench) Adapt(ctx context.Context, r api.AdaptRequest) (string, error) {
	return w.local.Adapt(ctx, r)
}

// RunTask adapts a method to a task and evaluates it on the test split. It is
// the single code path of the TUI, `workbench run` and `workbench bench`.
func (w *Workbench) RunTask(ctx context.Context, method string, task *tasks.Task, seed int64, knobs api.Knobs, pub func(events.Event)) (*meta.Adapted, *events.ResultInfo, error) {
	base, err := w.Base(ctx)
	if err != nil {
		return nil, nil, err
	}
	art, err := w.ArtifactFor(ctx, method, w.HeldOut(task.Suite))
	if err != nil {
		return nil, nil, err
	}
	m, err := meta.New(method, withKnobs(w.opts, knobs))
	if err != nil {
		return nil, nil, err
	}
	lora := LoRAConfig(w.cfg)
	if knobs.Rank > 0 && api.Method(method) == api.MethodNoMetaLoRA {
		lora.Rank = knobs.Rank // only a from-scratch LoRA can change shape; meta-learned ones are fixed
	}
	if err := models.LoRAFits(base.Config, lora); err != nil {
		return nil, nil, err
	}
	// Every method gets the same labelled support set: the first [adapt]
	// support items of the train split (or the run's knob).
	support := knobs.Support
	if support <= 0 {
		support = w.cfg.Adapt.Support
	}
	if support > 0 && support < len(task.Splits.Train) {
		t := *task
		t.Splits.Train = task.Splits.Train[:support]
		task = &t
	}
	wrapped := func(e events.Event) {
		if e.Method == "" {
			e.Method = method
		}
		if e.Task == "" {
			e.Task = task.Name
		}
		pub(e)
	}
	rank := lora.Rank
	if api.Method(method) == api.MethodBase {
		rank = 0 // no adapter
	}
	wrapped(events.Event{Kind: events.AdaptStarted,
		Adapt: adaptInfo(method, task.Name, task.Suite, seed, withKnobs(w.opts, knobs), rank, len(task.Splits.Train))})
	env := &meta.Env{Backend: w.backend, Model: base, LoRA: lora, Publish: wrapped}
	start := time.Now()
	remake := func(k api.Knobs) (meta.Method, error) { return meta.New(method, withKnobs(w.opts, k)) }
	ad, flag, err := adaptWatched(ctx, m, remake, env, art, task, seed, knobs)
	if err != nil {
		return nil, nil, err
	}
	acc, ece, _, err := meta.Evaluate(ctx, env, ad, task.Splits.Test)
	if err == nil {
		err = finiteResult(acc, ece)
	}
	if err != nil {
		return nil, nil, err
	}
	res := &events.ResultInfo{Method: method, Suite: task.Suite, Task: task.Name, Seed: seed, Accuracy: acc,
		N: len(task.Splits.Test), ECE: events.F(ece), WallS: time.Since(start).Seconds(), Flag: flag}
	if ad != nil {
		res.Chosen = ad.Chosen
	}
	wrapped(events.Event{Kind: events.Result, Result: res, Accuracy: events.F(acc)})
	return ad, res, nil
}

// adapted waits for an adaptation run to finish and returns its result.
func (w *Workbench) adapted(ctx context.Context, runID string) (*meta.Adapted, string, error) {
	if runID == "" {
		return nil, "base model", nil
	}
	w.runsMu.Lock()
	run, ok := w.runs[runID]
	w.runsMu.Unlock()
	if !ok {
		return nil, "", fmt.Errorf("unknown adaptation run %q", runID)
	}
	select {
	case <-run.done:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	if run.err != nil {
		return nil, "", fmt.Errorf("adaptation run %s failed: %w", runID, run.err)
	}
	return run.adapted, run.method + " on " + run.task.Name, nil
}

// MaxChatBytes bounds a chat prompt (input typed over SSH included).
const MaxChatBytes = 2048

// chatPrompt formats what the user typed like the tasks the model learned:
// a multiple-choice question (tasks.ParseChoice) gets its answer cue. A
// word-vocabulary model reads only its own words: a prompt with others is an
// error naming them and listing the words it knows; a question gets the task
// tag and, with options ("… options a b" or "A: a" lines), the " answer" cue.
func chatPrompt(p string, tok tokenizer.Tokenizer) (string, error) {
	p = strings.TrimRight(p, " \n")
	ex, mc := choiceExample(p, tok)
	if wt, ok := tok.(*tokenizer.Word); ok {
		if mc {
			p, _ = train.Format(ex)
		} else if !hasWorldTag(p) {
			p = suites.TaskTag + " : " + p
		}
		if u := wt.Unknown(p); len(u) > 0 {
			return "", fmt.Errorf("the built-in model reads only its %d words; not among them: %s. It knows: %s",
				len(wt.Words()), strings.Join(u, ", "), strings.Join(wt.Words(), " "))
		}
		return p, nil
	}
	switch {
	case mc && ex.WordAnswer:
		p, _ = train.Format(ex)
	case mc:
		p += train.AnswerCue // the user's own text, then the cue: nothing re-rendered
	}
	return p, nil
}

// choiceExample reads p as a multiple-choice question (tasks.ParseChoice,
// the rule the chat pane draws option bars by) in the form tok's model
// answers: a word-vocabulary model answers every question with the option
// word, after its task tag.
func choiceExample(p string, tok tokenizer.Tokenizer) (tasks.Example, bool) {
	ex, ok := tasks.ParseChoice(p)
	if !ok {
		return tasks.Example{}, false
	}
	if _, word := tok.(*tokenizer.Word); word {
		ex.WordAnswer = true
		ex.Prompt = strings.Join(strings.Fields(ex.Prompt), " ")
		if !hasWorldTag(ex.Prompt) {
			ex.Prompt = suites.TaskTag + " : " + ex.Prompt
		}
	}
	return ex, true
}

// hasWorldTag reports whether p starts with a world tag ("wx :" or "p3 :").
func hasWorldTag(p string) bool {
	f := strings.Fields(p)
	if len(f) < 2 || f[1] != ":" {
		return false
	}
	if f[0] == suites.TaskTag {
		return true
	}
	_, err := strconv.Atoi(strings.TrimPrefix(f[0], "p"))
	return strings.HasPrefix(f[0], "p") && err == nil
}

// Chat streams the adapted model's answer as Token events with Run == id,
// then a Log event whose Message is the label of the adapter that answered.
func (w *Workbench) Chat(ctx context.Context, r api.ChatRequest) (string, error) {
	return w.local.Chat(ctx, r)
}

func (w *Workbench) chat(ctx context.Context, r api.ChatRequest, maxNew int, pub func(events.Event)) error {
	base, err := w.Base(ctx)
	if err != nil {
		return err
	}
	ad, label, err := w.adapted(ctx, r.AdaptRun)
	if err != nil {
		return err
	}
	opt := models.GenerateOptions{MaxNew: maxNew, Greedy: true, StopEOS: true, StopStrings: append([]string{"\n\n"}, r.Stop...), TruncateLeft: true}
	if ad != nil {
		opt.Adapter, opt.HiddenDelta = ad.Adapter, ad.SlotDelta
		if opt.Adapter == nil && len(ad.Ensemble) > 0 {
			opt.Adapter = ad.Ensemble[0] // an ensemble answers in chat through its first member
			label += " (first of " + fmt.Sprint(len(ad.Ensemble)) + " TTS adapters)"
		}
	}
	prompt, err := chatPrompt(r.Prompt, base.Tokenizer)
	if err != nil {
		return err
	}
	start := time.Now()
	n := 0
	opt.OnToken = func(id int, text string) bool {
		n++
		pub(events.Event{Kind: events.Token, Text: text, Message: label, TokensPerS: float64(n) / time.Since(start).Seconds()})
		return ctx.Err() == nil
	}
	ids := base.Tokenizer.Encode(prompt)
	opt.MaxNew = chatMaxNew(base.Config.MaxPositions, len(ids), opt.MaxNew)
	g := w.generator(base)
	if _, err := g.Generate(ctx, ids, opt); err != nil {
		return err
	}
	pub(events.Event{Kind: events.Log, Phase: "chat_done", Message: label})
	return nil
}

// chatMaxNew is how many tokens a chat answer may add to a prompt of n
// tokens in a context of ctxLen. TruncateLeft makes room for MaxNew by
// cutting the prompt: with the word model's 64-token context and the TUI's
// 128 new tokens it kept only the last word ("answer"), and the model
// answered a question it never saw. A prompt that fits is kept whole and the
// answer gets the rest of the context; a longer one is still cut.
func chatMaxNew(ctxLen, n, maxNew int) int {
	if room := ctxLen - n; room > 0 && room < maxNew {
		return room
	}
	return maxNew
}

func (w *Workbench) generator(base *models.Model) *models.Generator {
	w.genOnce.Do(func() { w.gen = models.NewGenerator(w.backend, base) })
	return w.gen
}

// OptionProbs returns P(option) for a multiple-choice prompt under the
// adapted model (or the base model), as the chat pane's bars show.
func (w *Workbench) OptionProbs(ctx context.Context, r api.ChatRequest) ([]float64, error) {
	return w.local.OptionProbs(ctx, r)
}
