package tokenizer

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

// BPE is a Hugging Face byte-level BPE tokenizer (tokenizer.json). Encoding follows the HF pipeline:
//
//	added tokens split out (leftmost-longest, on raw text) → normalizer (NFC or none) → Split pre-tokenizer
//	(hand-written scanner, see pretokenize.go) → ByteLevel byte→rune mapping → BPE merges by rank → post-processor
//	template (e.g. a BOS prefix).
//
// It is safe for concurrent use.
type BPE struct {
	name           string
	vocab          map[string]int
	idToToken      []string
	merges         map[[2]int]mergeInfo
	added          *addedMatcher // normalized=false tokens, matched on raw text
	addedNorm      *addedMatcher // normalized=true tokens, matched after normalization
	addedByID      map[int]addedToken
	addedByContent map[string]int
	special        map[int]bool
	nfc            bool
	split          splitter
	unk            int // -1: unknown symbols are dropped (HF behaviour without unk_token)
	ignoreMrg      bool
	prefix         []int // post-processor ids before / after the sequence
	suffix         []int
	bos, eos       int
	pad            int
	vocabSize      int

	mu    sync.Mutex
	cache map[string][]int
}

type mergeInfo struct{ rank, id int }

// maxCacheEntries bounds the word cache; it is simply reset when full (cheap, and words repeat heavily).
const maxCacheEntries = 1 << 16

// Load reads dir/tokenizer.json and, when present, dir/tokenizer_config.json (for the bos/eos/pad token names).
func Load(dir string) (Tokenizer, error) {
	tj, err := os.ReadFile(filepath.Join(dir, "tokenizer.json"))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	cj, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := NewBPE(tj, cj, filepath.Base(filepath.Clean(dir)))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", dir, err)
	}
	return t, nil
}

// NewBPE builds a tokenizer from the contents of tokenizer.json and (optional, may be nil)
// tokenizer_config.json. Unsupported components yield an error naming them, never a panic.
func NewBPE(tokenizerJSON, configJSON []byte, name string) (*BPE, error) {
	var tj struct {
		AddedTokens   []addedToken    `json:"added_tokens"`
		Normalizer    json.RawMessage `json:"normalizer"`
		PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
		PostProcessor json.RawMessage `json:"post_processor"`
		Decoder       json.RawMessage `json:"decoder"`
		Model         struct {
			Type                    string            `json:"type"`
			Vocab                   map[string]int    `json:"vocab"`
			Merges                  []json.RawMessage `json:"merges"`
			Dropout                 *float64          `json:"dropout"`
			UnkToken                *string           `json:"unk_token"`
			ContinuingSubwordPrefix *string           `json:"continuing_subword_prefix"`
			EndOfWordSuffix         *string           `json:"end_of_word_suffix"`
			ByteFallback            bool              `json:"byte_fallback"`
			IgnoreMerges            bool              `json:"ignore_merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(tokenizerJSON, &tj); err != nil {
		return nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	m := tj.Model
	if m.Type != "BPE" {
		return nil, fmt.Errorf("unsupported model type %q (only byte-level BPE)", m.Type)
	}
	if m.Dropout != nil && *m.Dropout > 0 {
		return nil, errors.New("BPE dropout is not supported")
	}
	if (m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "") ||
		(m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "") || m.ByteFallback {
		return nil, errors.New("unsupported BPE options (continuing_subword_prefix / end_of_word_suffix / byte_fallback): not a byte-level BPE")
	}
	t := &BPE{
		name: name, vocab: m.Vocab, merges: make(map[[2]int]mergeInfo, len(m.Merges)),
		addedByID: map[int]addedToken{}, addedByContent: map[string]int{}, special: map[int]bool{}, unk: -1, ignoreMrg: m.IgnoreMerges,
		bos: -1, eos: -1, pad: -1, cache: map[string][]int{},
	}
	if t.vocab == nil {
		t.vocab = map[string]int{}
	}
	for tok, id := range t.vocab {
		if id < 0 {
			return nil, fmt.Errorf("negative id %d for token %q", id, tok)
		}
		t.vocabSize = max(t.vocabSize, id+1)
	}
	for _, a := range tj.AddedTokens {
		if a.ID < 0 {
			return nil, fmt.Errorf("negative id %d for added token %q", a.ID, a.Content)
		}
		t.vocabSize = max(t.vocabSize, a.ID+1)
	}
	t.idToToken = make([]string, t.vocabSize)
	for tok, id := range t.vocab {
		t.idToToken[id] = tok
	}
	if m.UnkToken != nil {
		id, ok := t.vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q not in vocab", *m.UnkToken)
		}
		t.unk = id
	}

	for i, raw := range m.Merges {
		a, b, err := parseMerge(raw)
		if err != nil {
			return nil, fmt.Errorf("merge %d: %w", i, err)
		}
		ia, oka := t.vocab[a]
		ib, okb := t.vocab[b]
		inew, okn := t.vocab[a+b]
		if !oka || !okb || !okn {
			return nil, fmt.Errorf("merge %d (%q %q): token not in vocab", i, a, b)
		}
		if _, dup := t.merges[[2]int{ia, ib}]; !dup { // first (lowest) rank wins, as in HF
			t.merges[[2]int{ia, ib}] = mergeInfo{rank: i, id: inew}
		}
	}

	if err := t.parseNormalizer(tj.Normalizer); err != nil {
		return nil, err
	}
	var raw, normed []addedToken
	for _, a := range tj.AddedTokens {
		t.addedByID[a.ID] = a
		t.addedByContent[a.Content] = a.ID
		t.idToToken[a.ID] = a.Content
		if a.Special {
			t.special[a.ID] = true
		}
		if a.Normalized {
			// HF stores normalized tokens in normalized form, so they match normalized text.
			a.Content = t.normalize(a.Content)
			normed = append(normed, a)
		} else {
			raw = append(raw, a)
		}
	}
	t.added, t.addedNorm = newAddedMatcher(raw), newAddedMatcher(normed)

	if err := t.parsePreTokenizer(tj.PreTokenizer); err != nil {
		return nil, err
	}
	if err := t.parsePostProcessor(tj.PostProcessor); err != nil {
		return nil, err
	}
	if err := checkDecoder(tj.Decoder); err != nil {
		return nil, err
	}
	if err := t.parseConfig(configJSON); err != nil {
		return nil, err
	}
	return t, nil
}

// parseMerge accepts both serialisations: "a b" (older files) and ["a", "b"] (tokenizers ≥ 0.20).
func parseMerge(raw json.RawMessage) (string, string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		a, b, ok := strings.Cut(s, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return "", "", fmt.Errorf("malformed merge %q", s)
		}
		return a, b, nil
	}
	var pair []string
	if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
		return "", "", fmt.Errorf("malformed merge %s", raw)
	}
	return pair[0], pair[1], nil
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

type component struct {
	Type string `json:"type"`
}

func (t *BPE) parseNormalizer(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var n struct {
		Type        string            `json:"type"`
		Normalizers []json.RawMessage `json:"normalizers"`
	}
	if err := json.Unmarshal(raw, &n); err != nil {
		return fmt.Errorf("normalizer: %w", err)
	}
	switch n.Type {
	case "NFC":
		t.nfc = true
		return nil
	case "Sequence":
		for _, sub := range n.Normalizers {
			if err := t.parseNormalizer(sub); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported normalizer %q (supported: NFC, Sequence of NFC, none)", n.Type)
}

func (t *BPE) normalize(s string) string {
	if t.nfc {
		return norm.NFC.String(s)
	}
	return s
}

func (t *BPE) parsePreTokenizer(raw json.RawMessage) error {
	const want = "a Sequence of Split(Qwen2/Llama-3 regex, Isolated) + ByteLevel(add_prefix_space=false, use_regex=false)"
	var seq struct {
		Type          string            `json:"type"`
		PreTokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if isNull(raw) {
		return fmt.Errorf("missing pre_tokenizer (supported: %s)", want)
	}
	if err := json.Unmarshal(raw, &seq); err != nil {
		return fmt.Errorf("pre_tokenizer: %w", err)
	}
	if seq.Type != "Sequence" || len(seq.PreTokenizers) != 2 {
		return fmt.Errorf("unsupported pre_tokenizer %q (supported: %s)", seq.Type, want)
	}
	var split struct {
		Type    string `json:"type"`
		Pattern struct {
			Regex  *string `json:"Regex"`
			String *string `json:"String"`
		} `json:"pattern"`
		Behavior string `json:"behavior"`
		Invert   bool   `json:"invert"`
	}
	if err := json.Unmarshal(seq.PreTokenizers[0], &split); err != nil {
		return fmt.Errorf("pre_tokenizer split: %w", err)
	}
	if split.Type != "Split" || split.Behavior != "Isolated" || split.Invert || split.Pattern.Regex == nil {
		return fmt.Errorf("unsupported first pre_tokenizer %s (supported: %s)", seq.PreTokenizers[0], want)
	}
	switch *split.Pattern.Regex {
	case QwenSplitPattern:
		t.split = splitter{maxDigits: 1}
	case Llama3SplitPattern:
		t.split = splitter{maxDigits: 3}
	default:
		// Go's regexp cannot run these patterns faithfully (no lookahead), so only known ones are accepted.
		return fmt.Errorf("unsupported pre_tokenizer split regex %q: only the Qwen2 and Llama-3 patterns are implemented", *split.Pattern.Regex)
	}
	var bl struct {
		Type           string `json:"type"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		UseRegex       bool   `json:"use_regex"`
	}
	if err := json.Unmarshal(seq.PreTokenizers[1], &bl); err != nil {
		return fmt.Errorf("pre_tokenizer byte level: %w", err)
	}
	if bl.Type != "ByteLevel" || bl.AddPrefixSpace || bl.UseRegex {
		return fmt.Errorf("unsupported second pre_tokenizer %s (supported: %s)", seq.PreTokenizers[1], want)
	}
	return nil
}

func (t *BPE) parsePostProcessor(raw json.RawMessage) error {
	if isNull(raw) {
		return nil
	}
	var p struct {
		Type       string            `json:"type"`
		Processors []json.RawMessage `json:"processors"`
		Single     []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		} `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int `json:"ids"`
		} `json:"special_tokens"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("post_processor: %w", err)
	}
	switch p.Type {
	case "ByteLevel": // only adjusts offsets
		return nil
	case "Sequence":
		for _, sub := range p.Processors {
			if err := t.parsePostProcessor(sub); err != nil {
				return err
			}
		}
		return nil
	case "TemplateProcessing":
		seen := false
		for _, it := range p.Single {
			switch {
			case it.Sequence != nil:
				seen = true
			case it.SpecialToken != nil:
				st, ok := p.SpecialTokens[it.SpecialToken.ID]
				if !ok {
					return fmt.Errorf("post_processor: special token %q not defined", it.SpecialToken.ID)
				}
				if seen {
					t.suffix = append(t.suffix, st.IDs...)
				} else {
					t.prefix = append(t.prefix, st.IDs...)
				}
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported post_processor %q", p.Type)
}

func checkDecoder(raw json.RawMessage) error {
	var d component
	if !isNull(raw) {
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("decoder: %w", err)
		}
	}
	if d.Type != "ByteLevel" {
		return fmt.Errorf("unsupported decoder %q (only ByteLevel)", d.Type)
	}
	return nil
}

// parseConfig reads bos/eos/pad token names from tokenizer_config.json; each may be null, a string, or an
// AddedToken object {"content": ...}.
func (t *BPE) parseConfig(raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("tokenizer_config.json: %w", err)
	}
	for key, dst := range map[string]*int{"bos_token": &t.bos, "eos_token": &t.eos, "pad_token": &t.pad} {
		v, ok := c[key]
		if !ok || isNull(v) {
			continue
		}
		var name string
		if err := json.Unmarshal(v, &name); err != nil {
			var obj struct {
				Content string `json:"content"`
			}
			if err := json.Unmarshal(v, &obj); err != nil {
				return fmt.Errorf("tokenizer_config.json %s: %w", key, err)
			}
			name = obj.Content
		}
		id, ok := t.TokenID(name)
		if !ok {
			return fmt.Errorf("tokenizer_config.json %s %q is not in the vocabulary", key, name)
		}
		*dst = id
	}
	return nil
}

// Encode tokenizes text like HF `tokenizer(text)["input_ids"]` (post-processor applied; for the Qwen2
// reference it adds nothing).
func (t *BPE) Encode(text string) []int { return t.EncodeWith(text, true) }

// EncodeWith is Encode with control over the post-processor's special tokens (HF add_special_tokens).
func (t *BPE) EncodeWith(text string, addSpecialTokens bool) []int {
	ids := make([]int, 0, len(text)/3+len(t.prefix)+len(t.suffix))
	if addSpecialTokens {
		ids = append(ids, t.prefix...)
	}
	var segs, inner []segment
	segs = t.added.split(text, segs)
	for _, seg := range segs {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		inner = t.addedNorm.split(t.normalize(seg.text), inner[:0])
		for _, s2 := range inner {
			if s2.id >= 0 {
				ids = append(ids, s2.id)
				continue
			}
			t.split.split(s2.text, func(piece string) { ids = t.appendWord(ids, piece) })
		}
	}
	if addSpecialTokens {
		ids = append(ids, t.suffix...)
	}
	return ids
}

// appendWord appends the BPE ids of one pre-token, via the cache.
func (t *BPE) appendWord(dst []int, piece string) []int {
	t.mu.Lock()
	cached, ok := t.cache[piece]
	t.mu.Unlock()
	if ok {
		return append(dst, cached...)
	}
	ids := t.bpe(piece)
	t.mu.Lock()
	if len(t.cache) >= maxCacheEntries {
		clear(t.cache)
	}
	t.cache[piece] = ids
	t.mu.Unlock()
	return append(dst, ids...)
}

// bpe merges the byte-level symbols of piece. It pops the lowest-rank adjacent pair (leftmost on ties) from a
// heap and merges it, like HF's BPE::merge_word, in O(n log n) so long runs (e.g. whitespace) stay cheap.
func (t *BPE) bpe(piece string) []int {
	syms := byteLevelSymbols(piece)
	if t.ignoreMrg {
		if id, ok := t.vocab[string(syms)]; ok {
			return []int{id}
		}
	}
	type node struct{ id, prev, next int }
	nodes := make([]node, 0, len(syms))
	for _, r := range syms {
		id, ok := t.vocab[string(r)]
		if !ok {
			if t.unk < 0 {
				continue // HF drops unknown symbols when there is no unk token
			}
			id = t.unk
		}
		nodes = append(nodes, node{id: id, prev: len(nodes) - 1, next: len(nodes) + 1})
	}
	if len(nodes) == 0 {
		return nil
	}
	nodes[len(nodes)-1].next = -1
	h := &mergeHeap{}
	push := func(pos int) {
		nx := nodes[pos].next
		if nx < 0 {
			return
		}
		if m, ok := t.merges[[2]int{nodes[pos].id, nodes[nx].id}]; ok {
			heap.Push(h, mergeCand{rank: m.rank, pos: pos, left: nodes[pos].id, right: nodes[nx].id, id: m.id})
		}
	}
	for i := range nodes {
		push(i)
	}
	for h.Len() > 0 {
		c := heap.Pop(h).(mergeCand)
		nx := nodes[c.pos].next
		// Stale entry: a neighbour changed since it was pushed (ids only ever change by merging, so comparing
		// both ids detects it).
		if nodes[c.pos].id != c.left || nx < 0 || nodes[nx].id != c.right {
			continue
		}
		nodes[c.pos].id = c.id
		nodes[c.pos].next = nodes[nx].next
		if nn := nodes[nx].next; nn >= 0 {
			nodes[nn].prev = c.pos
		}
		nodes[nx].id = -1 // dead
		if p := nodes[c.pos].prev; p >= 0 {
			push(p)
		}
		push(c.pos)
	}
	var out []int
	for i := 0; i >= 0; i = nodes[i].next {
		out = append(out, nodes[i].id)
	}
	return out
}

type mergeCand struct{ rank, pos, left, right, id int }

type mergeHeap []mergeCand

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].rank != h[j].rank {
		return h[i].rank < h[j].rank
	}
	return h[i].pos < h[j].pos
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeCand)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// DecodeBytes maps ids back to bytes: added tokens as their content, vocabulary tokens through the ByteLevel
// decoder. Unknown ids are skipped.
func (t *BPE) DecodeBytes(ids []int) []byte {
	out := make([]byte, 0, 4*len(ids))
	for _, id := range ids {
		if a, ok := t.addedByID[id]; ok {
			out = append(out, a.Content...)
			continue
		}
		if id < 0 || id >= len(t.idToToken) || t.idToToken[id] == "" {
			continue
		}
		out = appendByteLevelDecoded(out, t.idToToken[id])
	}
	return out
}

// Decode is HF decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False).
func (t *BPE) Decode(ids []int) string { return lossyUTF8(t.DecodeBytes(ids)) }

func (t *BPE) VocabSize() int        { return t.vocabSize }
func (t *BPE) EOS() int              { return t.eos }
func (t *BPE) BOS() int              { return t.bos }
func (t *BPE) PAD() int              { return t.pad }
func (t *BPE) Name() string          { return t.name }
func (t *BPE) IsSpecial(id int) bool { return t.special[id] }

// AddedTokenIDs lists the ids of tokenizer.json's added tokens, ascending.
func (t *BPE) AddedTokenIDs() []int { return slices.Sorted(maps.Keys(t.addedByID)) }

func (t *BPE) TokenString(id int) string {
	if id < 0 || id >= len(t.idToToken) {
		return ""
	}
	return t.idToToken[id]
}

// TokenID looks up an added token's content or a vocabulary entry (byte-level form, e.g. "Ġthe").
func (t *BPE) TokenID(token string) (int, bool) {
	if id, ok := t.addedByContent[token]; ok {
		return id, true
	}
	id, ok := t.vocab[token]
	return id, ok
}
