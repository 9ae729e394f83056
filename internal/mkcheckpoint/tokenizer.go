package mkcheckpoint

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/degaml/workbench/internal/atomicfile"
	"github.com/degaml/workbench/models/tokenizer"
)

// byteSymbols is GPT-2's bytes_to_unicode table: the printable character
// that stands for each byte in a byte-level BPE vocabulary, listed in the
// table's order (printable bytes first), which is also the id order of the
// 256 base tokens in Qwen2 and Llama 3.
func byteSymbols() []string {
	var bs []int
	for _, r := range [][2]int{{'!', '~'}, {0xa1, 0xac}, {0xae, 0xff}} {
		for b := r[0]; b <= r[1]; b++ {
			bs = append(bs, b)
		}
	}
	cs := append([]int(nil), bs...)
	in := map[int]bool{}
	for _, b := range bs {
		in[b] = true
	}
	n := 0
	for b := range 256 {
		if !in[b] {
			bs = append(bs, b)
			cs = append(cs, 256+n)
			n++
		}
	}
	out := make([]string, 256)
	for i := range bs {
		out[i] = string(rune(cs[i]))
	}
	return out
}

// bpeTokens returns n distinct byte-level tokens and the merges that build
// them: the 256 byte symbols, then every symbol pair, then pairs extended by
// one symbol, and so on. Each new token is (an earlier token) + (one
// symbol), so its merge names two tokens already in the vocabulary.
func bpeTokens(n int) (tokens []string, merges [][2]string) {
	base := byteSymbols()
	tokens = append(tokens, base[:min(n, 256)]...)
	for prefix := 0; len(tokens) < n; prefix++ {
		for _, b := range base {
			if len(tokens) == n {
				break
			}
			a := tokens[prefix]
			tokens = append(tokens, a+b)
			merges = append(merges, [2]string{a, b})
		}
	}
	return tokens, merges
}

type addedTokenJSON struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// writeTokenizer writes tokenizer.json and tokenizer_config.json covering
// exactly vocab ids: the shape's special tokens at their ids, byte-level BPE
// tokens everywhere else.
func writeTokenizer(dir string, s Shape, vocab int) error {
	nBPE := vocab - len(s.Specials)
	if nBPE < 256 {
		return fmt.Errorf("mkcheckpoint: vocab %d leaves %d BPE ids, need at least 256 bytes", vocab, nBPE)
	}
	tokens, merges := bpeTokens(nBPE)
	vocabMap := make(map[string]int, nBPE)
	next := 0
	for _, t := range tokens {
		for s.Specials[next] != "" {
			next++
		}
		vocabMap[t] = next
		next++
	}
	var added []addedTokenJSON
	for id, content := range s.Specials {
		if id >= vocab {
			return fmt.Errorf("mkcheckpoint: special token %q id %d outside vocab %d", content, id, vocab)
		}
		added = append(added, addedTokenJSON{ID: id, Content: content, Special: true})
	}
	sort.Slice(added, func(i, j int) bool { return added[i].ID < added[j].ID })

	pattern := tokenizer.QwenSplitPattern
	var normalizer any = map[string]any{"type": "NFC"}
	byteLevelPost := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}
	var post any = byteLevelPost
	if s.Llama3 {
		pattern, normalizer = tokenizer.Llama3SplitPattern, nil
		bos := s.BOS
		post = map[string]any{"type": "Sequence", "processors": []any{byteLevelPost, map[string]any{
			"type":   "TemplateProcessing",
			"single": []any{map[string]any{"SpecialToken": map[string]any{"id": bos, "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair": []any{map[string]any{"SpecialToken": map[string]any{"id": bos, "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
				map[string]any{"SpecialToken": map[string]any{"id": bos, "type_id": 1}}, map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 1}}},
			"special_tokens": map[string]any{bos: map[string]any{"id": bos, "ids": []int{idOf(s.Specials, bos)}, "tokens": []string{bos}}},
		}}}
	}
	tj := map[string]any{
		"version": "1.0", "truncation": nil, "padding": nil,
		"added_tokens": added,
		"normalizer":   normalizer,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"post_processor": post,
		"decoder":        map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": s.Llama3,
			"vocab": vocabMap, "merges": merges},
	}
	data, err := json.Marshal(tj)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "tokenizer.json"), data, 0o644); err != nil {
		return err
	}
	tc := map[string]any{"bos_token": nilIfEmpty(s.BOS), "eos_token": nilIfEmpty(s.EOS), "pad_token": nilIfEmpty(s.PAD),
		"model_max_length": s.Config["max_position_embeddings"], "tokenizer_class": "PreTrainedTokenizerFast"}
	data, err = json.MarshalIndent(tc, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, "tokenizer_config.json"), append(data, '\n'), 0o644)
}

func idOf(specials map[int]string, content string) int {
	for id, c := range specials {
		if c == content {
			return id
		}
	}
	return -1
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
