package loaders

import (
	"strings"
	"testing"

	"github.com/degaml/workbench/tasks"
)

// checkInvariants: whatever the input, the returned examples are usable.
func checkInvariants(t *testing.T, exs []tasks.Example, err error) {
	t.Helper()
	if err == nil && len(exs) == 0 {
		t.Fatal("no error and no examples")
	}
	for i, ex := range exs {
		if len(ex.Options) == 0 {
			if ex.Target == "" {
				t.Fatalf("example %d: no options and no target", i)
			}
			continue
		}
		if ex.Answer < 0 || ex.Answer >= len(ex.Options) {
			t.Fatalf("example %d: answer %d for %d options", i, ex.Answer, len(ex.Options))
		}
	}
}

// fuzzFormat runs Parse with every format forced and with autodetection.
func fuzzFormat(t *testing.T, name string, data []byte, fi uint8) {
	formats := append([]string{""}, Formats()...)
	f := formats[int(fi)%len(formats)]
	exs, _, err := Parse(name, data, f)
	checkInvariants(t, exs, err)
	if err != nil && strings.TrimSpace(err.Error()) == "" {
		t.Fatal("empty error message")
	}
}

// FuzzParseDnD covers the DnD JSON-array family (and array parsing).
func FuzzParseDnD(f *testing.F) {
	f.Add([]byte(`[{"prompt":"Q\nA: x\nB: y","response":"[B]","system":"s"}]`), uint8(0))
	f.Add([]byte(`[{"prompt":"Q","response":"[True]"}]`), uint8(1))
	f.Add([]byte(`[{"prompt":"Q\nA: x\nB: y","response":"[C]"}, 3, null]`), uint8(0))
	f.Add([]byte(`[{"prompt":"Q\nA: x\nB: y","res`), uint8(0))
	f.Add([]byte("[\xff]"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, fi uint8) { fuzzFormat(t, "f.json", data, fi) })
}

// FuzzParseHFJSONL covers the Hugging Face JSONL layouts.
func FuzzParseHFJSONL(f *testing.F) {
	seeds := []string{
		`{"question":"q","choices":{"text":["a","b"],"label":["1","2"]},"answerKey":"2"}`,
		`{"passage":"p","question":"q","label":1}`,
		`{"passage":"p","question":"q","answer":true}`,
		`{"goal":"g","sol1":"a","sol2":"b","label":0}`,
		`{"context":"c","question":"q","answerA":"a","answerB":"b","answerC":"c","label":"2"}`,
		`{"activity_label":"a","ctx_a":"b","ctx_b":"c","endings":["x [title] y","z"],"label":"1"}`,
		`{"sentence":"a _ b","option1":"x","option2":"y","answer":"1"}`,
		`{"question_stem":"q","choices":{"text":["a","b"],"label":["A","B"]},"answerKey":"A"}`,
		`{"question":"q","answer":"r\n#### 7"}`,
		`{"question":"q","options":{"A":"a","B":"b"},"answer_idx":"B"}`,
		`{"question":"q","answer":"b","options":[{"key":"A","value":"a"},{"key":"B","value":"b"}]}`,
		`{"sent1":"q","ending0":"a","ending1":"b","label":1}`,
		`{"question":"q","opa":"a","opb":"b","opc":"c","opd":"d","cop":4}`,
		`{"question":"q","context":{"contexts":["c"]},"final_decision":"maybe"}`,
		`{"context":"c","query":"q","options":["a","b"],"correct_option":1}`,
		"{\"goal\":\"g\"}\n{\"goal\":",
	}
	for i, s := range seeds {
		f.Add([]byte(s+"\n"+s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, fi uint8) { fuzzFormat(t, "f.jsonl", data, fi) })
}

// FuzzParseKeyed covers top-level keyed objects (PubMedQA ori_pqal.json).
func FuzzParseKeyed(f *testing.F) {
	f.Add([]byte("{\n \"1\": {\"QUESTION\":\"q\",\"CONTEXTS\":[\"c\"],\"final_decision\":\"yes\"},\n \"2\": {\"QUESTION\":\"q\",\"CONTEXTS\":[],\"final_decision\":\"no\"}\n}"), uint8(0))
	f.Add([]byte("{\n \"1\": {\"QUESTION\":\"q\",\"CONTEXTS\":[\"c\"],\"final_dec"), uint8(0))
	f.Add([]byte("{\n \"a\": 1,\n \"b\": [2]\n}"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, fi uint8) { fuzzFormat(t, "f.json", data, fi) })
}

// FuzzSplitDnDPrompt: splitting never panics and the parts are consistent.
func FuzzSplitDnDPrompt(f *testing.F) {
	for _, s := range []string{"Q\nA: x\nB: y", "\nA: \nB: ", "Q\nA: x\nC: z\nB: y", "", "\nA: "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, opts := SplitDnDPrompt(s)
		if opts == nil && q != s {
			t.Fatalf("no options but question changed: %q", q)
		}
		if opts != nil && (len(opts) < 2 || !strings.HasPrefix(s, q)) {
			t.Fatalf("bad split %q %q", q, opts)
		}
	})
}
