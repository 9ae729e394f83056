package loaders

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/degaml/workbench/tasks"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, name, body, format string) []tasks.Example {
	t.Helper()
	exs, err := Load(write(t, name, body), format)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return exs
}

func TestLayouts(t *testing.T) {
	cases := []struct {
		name, file, body string
		want             []tasks.Example
	}{
		{"dnd", "d.json", `[
 {"prompt": "What is 2+2?\nA: 3\nB: 4\nC: 5", "response": "[B]", "system": "answer by a single [ans]"},
 {"prompt": "The sky is green.", "response": "[False]"},
 {"prompt": "Is water wet?\nA: True\nB: False", "response": "[True]"},
 {"prompt": "Q: hi\nA: hello\nPick one\nA: x\nB: y", "response": "[A]"}
]`, []tasks.Example{
			{Prompt: "What is 2+2?", Options: []string{"3", "4", "5"}, Answer: 1, System: "answer by a single [ans]"},
			{Prompt: "The sky is green.", Options: []string{"True", "False"}, Answer: 1},
			{Prompt: "Is water wet?", Options: []string{"True", "False"}, Answer: 0},
			{Prompt: "Q: hi\nA: hello\nPick one", Options: []string{"x", "y"}, Answer: 0},
		}},
		{"arc", "arc.jsonl", `{"id":"1","question":"Which is a metal?","choices":{"text":["wood","iron","glass","salt"],"label":["A","B","C","D"]},"answerKey":"B"}
{"id":"2","question":"Pick","choices":{"text":["x","y","z","w"],"label":["1","2","3","4"]},"answerKey":"4"}
{"id":"3","question":{"stem":"Old form","choices":[{"text":"p","label":"A"},{"text":"q","label":"B"}]},"answerKey":"A"}`,
			[]tasks.Example{
				{Prompt: "Which is a metal?", Options: []string{"wood", "iron", "glass", "salt"}, Answer: 1},
				{Prompt: "Pick", Options: []string{"x", "y", "z", "w"}, Answer: 3},
				{Prompt: "Old form", Options: []string{"p", "q"}, Answer: 0},
			}},
		{"boolq", "b.jsonl", `{"question":"is it","passage":"P.","idx":0,"label":1}
{"question":"is it not","passage":"P.","answer":false}`,
			[]tasks.Example{
				{Prompt: "P.\nQuestion: is it?", Options: []string{"True", "False"}, Answer: 0},
				{Prompt: "P.\nQuestion: is it not?", Options: []string{"True", "False"}, Answer: 1},
			}},
		{"piqa", "p.json", `[{"goal":"Open a jar","sol1":"twist","sol2":"push","label":0}]`,
			[]tasks.Example{{Prompt: "Open a jar", Options: []string{"twist", "push"}, Answer: 0}}},
		{"siqa", "s.jsonl", `{"context":"Tracy helped.","question":"Why?","answerA":"kind","answerB":"mean","answerC":"bored","label":"1"}`,
			[]tasks.Example{{Prompt: "Tracy helped. Why?", Options: []string{"kind", "mean", "bored"}, Answer: 0}}},
		{"hellaswag", "h.jsonl", `{"ind":4,"activity_label":"Removing ice from car","ctx_a":"Then, the man writes over the snow.","ctx_b":"then","ctx":"x","endings":[", the man [title] adds wax.","  is done.  ",". he stops [step] it.","x"],"source_id":"a","split":"val","split_type":"indomain","label":"3"}`,
			[]tasks.Example{{Prompt: "Removing ice from car: Then, the man writes over the snow. Then",
				Options: []string{", the man. adds wax.", "is done.", ". he stops it.", "x"}, Answer: 3, Continuation: true}}},
		{"winogrande", "w.jsonl", `{"sentence":"Ian wanted the cup but _ was too far.","option1":"Ian","option2":"the cup","answer":"2"}`,
			[]tasks.Example{{Prompt: "Ian wanted the cup but _ was too far.", Options: []string{"Ian", "the cup"}, Answer: 1,
				Target: "was too far.", Continuation: true}}},
		{"openbookqa", "o.jsonl", `{"id":"7-980","question_stem":"The sun is","choices":{"text":["cold","hot","blue","wet"],"label":["A","B","C","D"]},"answerKey":"B"}`,
			[]tasks.Example{{Prompt: "The sun is", Options: []string{"cold", "hot", "blue", "wet"}, Answer: 1}}},
		{"gsm8k", "g.jsonl", `{"question":"How many?","answer":"2+2=<<2+2=4>>4\n#### 1,234"}`,
			[]tasks.Example{{Prompt: "How many?", Answer: -1, Target: "1234"}}},
		{"medqa-dict", "m.jsonl", `{"question":"Drug?","answer":"B1","options":{"A":"A1","B":"B1","C":"C1","D":"D1"},"meta_info":"step1","answer_idx":"B"}`,
			[]tasks.Example{{Prompt: "Drug?", Options: []string{"A1", "B1", "C1", "D1"}, Answer: 1}}},
		{"medqa-list", "m2.json", `[{"question":"Drug?","answer":"C1","options":[{"key":"A","value":"A1"},{"key":"B","value":"B1"},{"key":"C","value":"C1"}]},
{"question":"Dose?","answer":"y","options":["x","y"]}]`,
			[]tasks.Example{{Prompt: "Drug?", Options: []string{"A1", "B1", "C1"}, Answer: 2},
				{Prompt: "Dose?", Options: []string{"x", "y"}, Answer: 1}}},
		{"medqa-endings", "m3.jsonl", `{"id":"x","sent1":"Which?","sent2":"","ending0":"a","ending1":"b","ending2":"c","ending3":"d","label":2}`,
			[]tasks.Example{{Prompt: "Which?", Options: []string{"a", "b", "c", "d"}, Answer: 2}}},
		{"medmcqa-0", "mm.jsonl", `{"id":"a","question":"Q1","opa":"a","opb":"b","opc":"c","opd":"d","cop":0,"choice_type":"single"}
{"id":"b","question":"Q2","opa":"a","opb":"b","opc":"c","opd":"d","cop":3}`,
			[]tasks.Example{{Prompt: "Q1", Options: []string{"a", "b", "c", "d"}, Answer: 0},
				{Prompt: "Q2", Options: []string{"a", "b", "c", "d"}, Answer: 3}}},
		{"medmcqa-1", "mm1.jsonl", `{"question":"Q1","opa":"a","opb":"b","opc":"c","opd":"d","cop":4}
{"question":"Q2","opa":"a","opb":"b","opc":"c","opd":"d","cop":1}`,
			[]tasks.Example{{Prompt: "Q1", Options: []string{"a", "b", "c", "d"}, Answer: 3},
				{Prompt: "Q2", Options: []string{"a", "b", "c", "d"}, Answer: 0}}},
		{"pubmedqa-ori", "ori_pqal.json", `{
 "21645374": {"QUESTION": "Do cells die?", "CONTEXTS": ["C1.", "C2."], "LABELS": ["B","M"], "final_decision": "yes", "LONG_ANSWER": "x"},
 "16418930": {"QUESTION": "Is it?", "CONTEXTS": ["C3."], "final_decision": "maybe"}
}`, []tasks.Example{
			{Prompt: "Abstract: C1.\nC2.\nQuestion: Do cells die?", Options: []string{"yes", "no", "maybe"}, Answer: 0},
			{Prompt: "Abstract: C3.\nQuestion: Is it?", Options: []string{"yes", "no", "maybe"}, Answer: 2},
		}},
		{"pubmedqa-hf", "pq.jsonl", `{"pubid":1,"question":"Q?","context":{"contexts":["A.","B."],"labels":["x"],"meshes":[]},"long_answer":"l","final_decision":"no"}`,
			[]tasks.Example{{Prompt: "Abstract: A.\nB.\nQuestion: Q?", Options: []string{"yes", "no", "maybe"}, Answer: 1}}},
		{"logiqa", "l.jsonl", `{"context":"All A are B.","query":"So?","options":["o1","o2","o3","o4"],"correct_option":2}
{"text":"T.","question":"Q?","options":["o1","o2"],"answer":"b"}`,
			[]tasks.Example{{Prompt: "All A are B.\nSo?", Options: []string{"o1", "o2", "o3", "o4"}, Answer: 2},
				{Prompt: "T.\nQ?", Options: []string{"o1", "o2"}, Answer: 1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mustLoad(t, c.file, c.body, "")
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

func TestDetectedFormat(t *testing.T) {
	_, f, err := Parse("x.jsonl", []byte(`{"goal":"g","sol1":"a","sol2":"b","label":1}`), "")
	if err != nil || f != "piqa" {
		t.Errorf("format %q err %v", f, err)
	}
	for _, f := range Formats() {
		if FormatDoc(f) == "" {
			t.Errorf("format %s has no doc", f)
		}
	}
}

// problems loads body and returns the problem strings.
func problems(t *testing.T, name, body, format string) []string {
	t.Helper()
	_, _, err := Parse(name, []byte(body), format)
	if err == nil {
		t.Fatalf("no error for %s", body)
	}
	var e *Error
	if !errors.As(err, &e) {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range e.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, file, body, format string
		want                     []string // substrings, one per problem, in order
	}{
		{"jsonl missing field", "a.jsonl", "{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}\n\n{\"goal\":\"g\",\"sol1\":\"a\",\"label\":0}\n", "",
			[]string{`a.jsonl:3: missing field "sol2"`}},
		{"jsonl wrong type and range", "a.jsonl", `{"goal":"g","sol1":"a","sol2":"b","label":"x"}
{"goal":"g","sol1":"a","sol2":"b","label":2}
{"goal":7,"sol1":"a","sol2":"b","label":1}`, "",
			[]string{`a.jsonl:1: field "label": want an integer, got string "x"`,
				`a.jsonl:2: field "label": answer 2 out of range 0..1`,
				`a.jsonl:3: field "goal": want a string, got number 7`}},
		{"jsonl truncated last line", "a.jsonl", "{\"goal\":\"g\",\"sol1\":\"a\",\"sol2\":\"b\",\"label\":0}\n{\"goal\":\"g\",\"so", "",
			[]string{`a.jsonl:2: truncated JSON`}},
		{"array record", "a.json", "[\n {\"prompt\":\"Q\\nA: x\\nB: y\",\"response\":\"[B]\"},\n {\"prompt\":\"Q\\nA: x\\nB: y\",\n  \"response\":\"[C]\"}\n]", "",
			[]string{`a.json: record 2: field "response": answer "[C]" out of range`}},
		{"array truncated", "a.json", "[\n {\"prompt\":\"Q\\nA: x\\nB: y\",\"response\":\"[B]\"},\n {\"prompt\":\"Q", "",
			[]string{`a.json: record 2: truncated JSON`}},
		{"array not objects", "a.json", `[1, {"prompt":"q","response":"4"}]`, "",
			[]string{`a.json: record 1: want a JSON object, got number 1`}},
		{"non-utf8", "a.jsonl", "{\"goal\":\"g\"}\n{\"goal\":\"\xff\"}", "",
			[]string{`a.jsonl:2: invalid UTF-8`}},
		{"empty options", "a.jsonl", `{"question":"q","choices":{"text":[],"label":[]},"answerKey":"A"}`, "",
			[]string{`field "choices": empty options`}},
		{"empty option text", "a.jsonl", `{"goal":"g","sol1":"a","sol2":" ","label":0}`, "",
			[]string{`a.jsonl:1: option B is empty`}},
		{"dnd letter without options", "a.json", `[{"prompt":"q","response":"[B]"}]`, "",
			[]string{`a.json: record 1: field "response": "[B]" names option B but the prompt has no`}},
		{"dnd bad response", "a.json", `[{"prompt":"q\nA: x\nB: y","response":"B"}]`, "",
			[]string{`want a bracketed option letter`}},
		{"winogrande no blank", "w.jsonl", `{"sentence":"no blank","option1":"a","option2":"b","answer":"1"}`, "",
			[]string{`w.jsonl:1: field "sentence": has no "_" blank`}},
		{"gsm8k no final", "g.jsonl", `{"question":"q","answer":"4"}`, "",
			[]string{`g.jsonl:1: field "answer": no final answer after "####"`}},
		{"medmcqa ambiguous", "m.jsonl", `{"question":"q","opa":"a","opb":"b","opc":"c","opd":"d","cop":2}`, "",
			[]string{`cannot tell whether cop is 0-based or 1-based`}},
		{"medmcqa-1 out of range", "m.jsonl", `{"question":"q","opa":"a","opb":"b","opc":"c","opd":"d","cop":0}`, "medmcqa-1",
			[]string{`m.jsonl:1: field "cop": answer 0 out of range 1..4`}},
		{"unknown layout", "u.jsonl", `{"foo":1}`, "",
			[]string{`u.jsonl:1: cannot detect the format from keys [foo]`}},
		{"empty file", "e.json", "  \n", "", []string{`e.json:1: empty file`}},
		{"empty array", "e.json", "[]", "", []string{`e.json:1: no records`}},
		{"not json", "e.json", "hello", "", []string{`e.json:1: not JSON`}},
		{"trailing data", "e.json", `[{"goal":"g","sol1":"a","sol2":"b","label":0}] x`, "", []string{`unexpected data after`}},
		{"hellaswag unlabeled", "h.jsonl", `{"activity_label":"a","ctx_a":"b","ctx_b":"c","endings":["x","y"],"label":""}`, "",
			[]string{`field "label": is empty (an unlabeled split?`}},
		{"pretty array field line", "p.json", "[\n {\n  \"goal\": \"g\",\n  \"sol1\": \"a\",\n  \"sol2\": \"b\",\n  \"label\": 5\n }\n]", "",
			[]string{`p.json: record 1: field "label": answer 5 out of range`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := problems(t, c.file, c.body, c.format)
			if len(got) != len(c.want) {
				t.Fatalf("got %d problems %q, want %d", len(got), got, len(c.want))
			}
			for i := range got {
				if !strings.Contains(got[i], c.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestLineString(t *testing.T) {
	body := "[\n {\n  \"goal\": \"g\",\n  \"sol1\": \"a\",\n  \"sol2\": \"b\",\n  \"label\": 5\n }\n]"
	_, _, err := Parse("p.json", []byte(body), "")
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 1 {
		t.Fatalf("err %v", err)
	}
	if got := e.Problems[0].LineString(); got != `p.json:6: record 1: field "label": answer 5 out of range 0..1` {
		t.Errorf("LineString = %q", got)
	}
	// The error a command prints (run --tasks, the TUI) names the line too.
	if got := err.Error(); got != `p.json:6: record 1: field "label": answer 5 out of range 0..1` {
		t.Errorf("Error() = %q, want FILE:LINE first", got)
	}
}

func TestKeepsGoodRecords(t *testing.T) {
	body := `{"goal":"g","sol1":"a","sol2":"b","label":0}
{"goal":"g","sol1":"a","sol2":"b","label":9}
{"goal":"h","sol1":"a","sol2":"b","label":1}`
	exs, _, err := Parse("k.jsonl", []byte(body), "")
	if err == nil || len(exs) != 2 || exs[1].Prompt != "h" {
		t.Errorf("exs %v err %v", exs, err)
	}
}

func TestFormatOverride(t *testing.T) {
	if _, _, err := Parse("x.json", []byte(`[{"goal":"g"}]`), "nope"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("err %v", err)
	}
	// Forcing the wrong layout reports the missing fields instead of guessing.
	ps := problems(t, "x.jsonl", `{"goal":"g","sol1":"a","sol2":"b","label":0}`, "arc")
	if !strings.Contains(ps[0], `missing field "question"`) {
		t.Errorf("%q", ps)
	}
}

func TestHellaSwagPreprocess(t *testing.T) {
	cases := map[string]string{
		"  a [title] b  ":    "a. b",
		"x [header] y":       "x y",
		"a [step] [title] b": "a . b",
		"no change":          "no change",
		"a    b":             "a  b", // one pass of "  " → " ", as in Python
	}
	for in, want := range cases {
		if got := HellaSwagPreprocess(in); got != want {
			t.Errorf("HellaSwagPreprocess(%q) = %q, want %q", in, got, want)
		}
	}
	if pyCapitalize("tHEN he") != "Then he" || pyCapitalize("") != "" {
		t.Error("pyCapitalize")
	}
}

func TestSplitDnDPrompt(t *testing.T) {
	q, o := SplitDnDPrompt("Q\nA: 1\nB: 2\nC: 3\nD: 4\nE: 5\nF: 6\nG: 7\nH: 8")
	if q != "Q" || len(o) != 8 || o[7] != "8" {
		t.Errorf("%q %q", q, o)
	}
	if q, o := SplitDnDPrompt("just text\nA: lonely"); q != "just text\nA: lonely" || o != nil {
		t.Errorf("%q %q", q, o)
	}
	// Round trip through DnDPrompt.
	ex := tasks.Example{Prompt: "Multi\nline", Options: []string{"x y", "z"}}
	q, o = SplitDnDPrompt(ex.DnDPrompt())
	if q != ex.Prompt || !reflect.DeepEqual(o, ex.Options) {
		t.Errorf("round trip %q %q", q, o)
	}
	_, _, err := Parse("n.json", []byte(`[{"prompt":"Q\nA: 1\nB: 2\nC: 3\nD: 4\nE: 5\nF: 6\nG: 7\nH: 8\nI: 9","response":"[A]"}]`), "")
	if err == nil || !strings.Contains(err.Error(), "9 option lines") {
		t.Errorf("err %v", err)
	}
}
