package models

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads much better unqualified
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/degaml/workbench/models/tokenizer"
)

// GenerateOptions controls Generate.
type GenerateOptions struct {
	MaxNew int
	// Greedy picks the arg-max token; so does a Temperature <= 0.
	Greedy      bool
	Temperature float64
	TopP        float64
	TopK        int
	Seed        uint64
	// StopEOS stops after the model emits its EOS token (the EOS id is kept in the output ids, as HF does).
	StopEOS bool
	// StopStrings stop generation as soon as the decoded text contains one of them; the returned Text is cut
	// before the stop string (the ids keep the token that completed it).
	StopStrings []string
	// OnToken is called once per new token with the text it completes (possibly "" while a multi-byte character
	// is still incomplete). Returning false stops generation.
	OnToken func(id int, text string) bool
	// TruncateLeft keeps the last tokens of a prompt that does not fit the context (leaving room for MaxNew when
	// possible) instead of returning an error.
	TruncateLeft bool

	Adapter     *Adapter  // optional LoRA adapter
	HiddenDelta []float32 // optional SLOT δ [H] added to the final hidden state
}

// Generation is the result of Generate.
type Generation struct {
	IDs        []int  // new token ids (without the prompt)
	Text       string // decoded new text (special tokens removed, cut before a stop string)
	StopReason string // "max_new", "eos", "stop_string", "callback", "context"
	PromptLen  int    // prompt tokens actually used (after left truncation)
}

// ErrPromptTooLong is returned when a prompt exceeds the context and TruncateLeft is not set.
var ErrPromptTooLong = errors.New("prompt longer than the model context")

// Generator runs KV-cached decoding for one model. It caches one compiled step graph per (adapter layout,
// delta, input length, cache size), so repeated calls are cheap. It is safe for concurrent use.
type Generator struct {
	Backend compute.Backend
	Model   *Model

	mu    sync.Mutex
	execs map[string]*Exec
	// goStep: one-token steps run in Go (decodestep.go) instead of the step graph; see goStepFits.
	goStep bool
}

// NewGenerator returns a generator for m on backend.
func NewGenerator(backend compute.Backend, m *Model) *Generator {
	return &Generator{Backend: backend, Model: m, execs: map[string]*Exec{}, goStep: goStepFits(backend, m.Config)}
}

// cacheBucket is the granularity of the KV-cache length: the attention cost of a step grows with the cache
// size S, so S is the needed length rounded up to 64, capped at MaxPositions.
const cacheBucket = 64

// prefillBucket pads multi-token feeds so a prompt compiles for few distinct lengths.
const prefillBucket = 32

// stepGraph builds the cached step: inputs are [base weights (sorted)] [adapter (sorted)] [delta] ids [B,T]
// int32, pos int32 (absolute position of ids[:,0]), last int32 (index in 0..T-1 of the last real token, whose
// logits are returned), then K_0, V_0, ..., K_{L-1}, V_{L-1} of shape [B,KV,S,Dh]. Outputs: logits [B,V] at `last`, then the
// updated caches.
func (g *Generator) stepGraph(baseNames, adNames []string, lora *LoRAConfig, hasDelta bool) func(*Graph, []*Node) []*Node {
	cfg := g.Model.Config
	return func(gr *Graph, in []*Node) []*Node {
		i := 0
		w := Bind(baseNames, in[i:i+len(baseNames)])
		i += len(baseNames)
		opt := ForwardOptions{}
		if lora != nil {
			opt.LoRA = lora
			opt.Adapter = Bind(adNames, in[i:i+len(adNames)])
			i += len(adNames)
		}
		if hasDelta {
			opt.HiddenDelta = in[i]
			i++
		}
		ids, pos, last := in[i], in[i+1], in[i+2]
		caches := in[i+3:]
		B, T := ids.Shape().Dimensions[0], ids.Shape().Dimensions[1]
		S := caches[0].Shape().Dimensions[2]

		tIota := Iota(gr, shapes.Make(dtypes.Int32, T), 0)
		positions := Add(tIota, pos) // [T] absolute positions of the fed tokens
		sIota := Iota(gr, shapes.Make(dtypes.Int32, S), 0)
		// Query t (at pos+t) may attend cache slot s iff s ≤ pos+t: slots past it are empty.
		mask := LessOrEqual(InsertAxes(sIota, 0), InsertAxes(positions, 1)) // [T,S]
		KV := cfg.NumKVHeads
		var store func(cache, x *Node) *Node
		if T == 1 {
			// Overwrite slot pos of every (batch, kv head) in place: the cache buffers are donated (see Feed),
			// so this costs O(B·KV·Dh) instead of a copy or a masked select over the whole cache.
			zero := ScalarZero(gr, dtypes.Int32)
			store = func(cache, x *Node) *Node {
				return DynamicUpdateSlice(cache, Reshape(x, B, KV, 1, cfg.HeadDim), []*Node{zero, zero, pos, zero})
			}
		} else {
			// Slot s receives fed token t iff s == pos+t and t is a real token (t ≤ last): a 0/1 matrix moves
			// the rows (exact: every output is 1·x plus zeros), padding rows are never stored.
			hit := LogicalAnd(Equal(InsertAxes(sIota, 1), InsertAxes(positions, 0)),
				InsertAxes(LessOrEqual(tIota, last), 0)) // [S,T]
			scatter := ConvertDType(hit, dtypes.Float32)
			written := BroadcastToDims(Reshape(LogicalAny(hit, 1), 1, 1, S, 1), B, KV, S, cfg.HeadDim)
			store = func(cache, x *Node) *Node {
				return Where(written, Einsum("st,btkd->bksd", scatter, x), cache)
			}
		}

		x := Embed(cfg, w, ids)
		out := make([]*Node, 1, 1+len(caches))
		for l := range cfg.NumLayers {
			pre := fmt.Sprintf("model.layers.%d.", l)
			h := RMSNorm(x, w.need(pre+"input_layernorm.weight"), cfg.RMSNormEps)
			q, k, v := QKV(cfg, w, l, h, positions, opt)
			kc, vc := store(caches[2*l], k), store(caches[2*l+1], v)
			out = append(out, kc, vc)
			attn := cachedAttention(cfg, q, kc, vc, mask)
			x = Add(x, Project(w, pre+"self_attn.o_proj", attn, opt))
			x = Add(x, MLP(cfg, w, l, RMSNorm(x, w.need(pre+"post_attention_layernorm.weight"), cfg.RMSNormEps), opt))
		}
		// Only the row `last` is needed: select it before the final norm and the LM head.
		if T > 1 {
			sel := ConvertDType(Equal(tIota, last), x.DType())
			x = Einsum("t,bth->bh", sel, x)
			x = InsertAxes(x, 1)
		}
		x = RMSNorm(x, w.need("model.norm.weight"), cfg.RMSNormEps)
		if d := opt.HiddenDelta; d != nil {
			if d.Rank() == 1 {
				x = Add(x, Reshape(d, 1, 1, d.Shape().Dimensions[0]))
			} else {
				x = Add(x, InsertAxes(d, 1))
			}
		}
		out[0] = Reshape(Logits(cfg, w, x), B, cfg.VocabSize)
		return out
	}
}

func (g *Generator) exec(lora *LoRAConfig, adNames []string, hasDelta bool) (*Exec, error) {
	key := fmt.Sprintf("delta=%v", hasDelta)
	if lora != nil {
		key += fmt.Sprintf(" lora=%d/%g/%v/%v n=%d", lora.Rank, lora.Alpha, lora.RSLoRA, lora.Targets, len(adNames))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.execs[key]; ok {
		return e, nil
	}
	var lc *LoRAConfig
	if lora != nil {
		c := *lora
		lc = &c
	}
	e, err := NewExec(g.Backend, g.stepGraph(g.Model.Params.Names(), adNames, lc, hasDelta))
	if err != nil {
		return nil, err
	}
	e.SetMaxCache(64)
	g.execs[key] = e
	return e, nil
}

// cachedAttention is ScaledDotAttention for caches kept head-major, [B,KV,S,Dh]: with (batch, kv head) as the
// leading batch axes both matmuls run in the backend's native layouts, so the caches are never transposed
// (a transposed copy of both caches per layer was a quarter of the decode time). q is [B,T,NumHeads,Dh] with
// query head h = kv·R + r (HF repeat_kv); mask is bool [T,S]. Returns [B,T,NumHeads·Dh].
func cachedAttention(cfg Config, q, kc, vc, mask *Node) *Node {
	B, T := q.Shape().Dimensions[0], q.Shape().Dimensions[1]
	KV, R, Dh := cfg.NumKVHeads, cfg.NumHeads/cfg.NumKVHeads, cfg.HeadDim
	S := kc.Shape().Dimensions[2]
	qg := Reshape(q, B, T, KV, R, Dh)
	if T > 1 {
		qg = TransposeAllAxes(qg, 0, 2, 3, 1, 4) // [B,KV,R,T,Dh]; for T = 1 this is a pure reshape
	}
	qg = Reshape(qg, B, KV, R*T, Dh)
	// A decode step has R·T = R rows per (batch, kv head): padded to minMatmulRows for the tiled kernels.
	scores := Dot(padRows(qg, 2, minMatmulRows), kc).General([]int{3}, []int{0, 1}, []int{3}, []int{0, 1})
	scores = unpadRows(scores, 2, R*T) // [B,KV,R·T,S]
	scores = MulScalar(scores, 1/math.Sqrt(float64(Dh)))
	// The same additive -1e30 bias as ScaledDotAttention, so cached and uncached logits agree.
	bias := MulScalar(AddScalar(ConvertDType(mask, scores.DType()), -1), 1e30) // [T,S]
	bias = Reshape(BroadcastToDims(Reshape(bias, 1, T, S), R, T, S), 1, 1, R*T, S)
	scores = Add(scores, bias)
	probs := softmaxLast(scores)
	out := Dot(padRows(probs, 2, minMatmulRows), vc).General([]int{3}, []int{0, 1}, []int{2}, []int{0, 1})
	out = unpadRows(out, 2, R*T) // [B,KV,R·T,Dh]
	if T > 1 {
		out = TransposeAllAxes(Reshape(out, B, KV, R, T, Dh), 0, 3, 1, 2, 4) // [B,T,KV,R,Dh]
	}
	return Reshape(out, B, T, cfg.NumHeads*Dh)
}

// Session is one batch-1 decoding state: the KV caches and the number of tokens fed so far.
type Session struct {
	g      *Generator
	exec   *Exec
	step   *goStep // the one-token step in Go (Generator.goStep), else nil
	fixed  []any   // weights, adapter, delta tensors
	caches []*tensors.Tensor
	S      int // cache length
	Pos    int // tokens fed so far
}

// NewSession allocates caches for up to maxLen tokens (capped at the model's MaxPositions).
func (g *Generator) NewSession(maxLen int, adapter *Adapter, delta []float32) (*Session, error) {
	cfg := g.Model.Config
	if maxLen <= 0 || maxLen > cfg.MaxPositions {
		maxLen = cfg.MaxPositions
	}
	S := min(cfg.MaxPositions, (maxLen+cacheBucket-1)/cacheBucket*cacheBucket)
	var lora *LoRAConfig
	var adNames []string
	fixed := make([]any, 0, len(g.Model.Params)+8)
	for _, t := range g.Model.Params.Tensors() {
		fixed = append(fixed, t)
	}
	if adapter != nil {
		lora = &adapter.Config
		adNames = adapter.Params.Names()
		for _, t := range adapter.Params.Tensors() {
			fixed = append(fixed, t)
		}
	}
	if delta != nil {
		if len(delta) != cfg.HiddenSize {
			return nil, fmt.Errorf("generate: hidden delta has %d values, want %d", len(delta), cfg.HiddenSize)
		}
		fixed = append(fixed, tensors.FromFlatDataAndDimensions(append([]float32{}, delta...), cfg.HiddenSize))
	}
	e, err := g.exec(lora, adNames, delta != nil)
	if err != nil {
		return nil, err
	}
	s := &Session{g: g, exec: e, fixed: fixed, S: S}
	if g.goStep {
		var d []float32
		if delta != nil {
			d = append(d, delta...)
		}
		if s.step, err = newGoStep(g.Model, adapter, d, S); err != nil {
			return nil, err
		}
	}
	for range 2 * cfg.NumLayers {
		// Head-major [B,KV,S,Dh] (see cachedAttention), zero-filled; slots past the fed tokens are masked out.
		s.caches = append(s.caches, tensors.FromShape(shapes.Make(dtypes.Float32, 1, cfg.NumKVHeads, S, cfg.HeadDim)))
	}
	return s, nil
}

// Feed appends ids to the sequence and returns the logits [V] predicting the token after the last one. A
// multi-token feed runs one prefill graph (padded to a multiple of 32); a single token runs the decode step.
func (s *Session) Feed(ids []int) ([]float32, error) {
	n := len(ids)
	if n == 0 {
		return nil, errors.New("generate: Feed needs at least one token")
	}
	if s.caches == nil {
		return nil, errors.New("generate: Feed on a closed session")
	}
	if s.Pos+n > s.S {
		return nil, fmt.Errorf("generate: %d tokens after %d exceed the cache of %d: %w", n, s.Pos, s.S, ErrPromptTooLong)
	}
	if n == 1 && s.step != nil {
		if ids[0] < 0 || ids[0] >= s.g.Model.Config.VocabSize {
			return nil, fmt.Errorf("generate: token id %d outside the vocabulary (size %d)", ids[0], s.g.Model.Config.VocabSize)
		}
		if s.step.kv == nil {
			s.step.takeCaches(s.caches)
		}
		logits := s.step.step(ids[0], s.Pos)
		s.Pos++
		return logits, nil
	}
	if s.step != nil && s.step.kv != nil {
		s.step.giveCaches(s.caches) // a prefill after Go steps: the graph gets the cache back
	}
	T := 1
	if n > 1 {
		T = (n + prefillBucket - 1) / prefillBucket * prefillBucket
	}
	buf := make([]int32, T)
	V := s.g.Model.Config.VocabSize
	for i, id := range ids {
		if id < 0 || id >= V {
			return nil, fmt.Errorf("generate: token id %d outside the vocabulary (size %d)", id, V)
		}
		buf[i] = int32(id)
	}
	// Padding rows land in slots ≥ Pos+n (or nowhere past S): masked out until overwritten by real tokens.
	args := make([]any, 0, len(s.fixed)+3+len(s.caches))
	args = append(args, s.fixed...)
	args = append(args, tensors.FromFlatDataAndDimensions(buf, 1, T), int32(s.Pos), int32(n-1))
	for _, c := range s.caches {
		// Donated: the step writes the new rows into these buffers instead of copying every cache per token.
		d, err := DonateTensorBuffer(c, s.g.Backend, 0)
		if err != nil {
			s.caches = nil // some may be donated already: the session is unusable
			return nil, err
		}
		args = append(args, d)
	}
	out, err := s.exec.Call(args...)
	if err != nil {
		s.caches = nil // donated: unusable now
		return nil, err
	}
	copy(s.caches, out[1:])
	s.Pos += n
	logits := tensors.MustCopyFlatData[float32](out[0])
	out[0].FinalizeAll()
	return logits, nil
}

// Close frees the caches.
func (s *Session) Close() {
	if s.step != nil {
		s.step.kv = nil
	}
	for _, c := range s.caches {
		c.FinalizeAll()
	}
	s.caches = nil
}

// Generate continues prompt (token ids) with KV caching.
func (g *Generator) Generate(ctx context.Context, prompt []int, opt GenerateOptions) (*Generation, error) {
	cfg := g.Model.Config
	if len(prompt) == 0 {
		return nil, errors.New("generate: empty prompt")
	}
	if opt.MaxNew < 0 {
		return nil, fmt.Errorf("generate: MaxNew %d < 0", opt.MaxNew)
	}
	ctxLen := cfg.MaxPositions
	if len(prompt) > ctxLen || (opt.TruncateLeft && len(prompt)+opt.MaxNew > ctxLen) {
		if !opt.TruncateLeft {
			return nil, fmt.Errorf("generate: %d prompt tokens, context is %d (set TruncateLeft to keep the last ones): %w",
				len(prompt), ctxLen, ErrPromptTooLong)
		}
		keep := max(1, ctxLen-opt.MaxNew)
		keep = min(keep, len(prompt))
		prompt = prompt[len(prompt)-keep:]
	}
	res := &Generation{PromptLen: len(prompt), StopReason: "max_new"}
	if opt.MaxNew == 0 {
		return res, nil
	}
	s, err := g.NewSession(len(prompt)+opt.MaxNew, opt.Adapter, opt.HiddenDelta)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	logits, err := s.Feed(prompt)
	if err != nil {
		return nil, err
	}
	temp := opt.Temperature
	if opt.Greedy {
		temp = 0
	}
	sampler := NewSampler(opt.Seed, temp, opt.TopK, opt.TopP)
	tok := g.Model.Tokenizer
	eos := cfg.EOSTokenID
	if tok != nil && tok.EOS() >= 0 {
		eos = tok.EOS()
	}
	var stream textStream
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		id := sampler.Sample(logits)
		res.IDs = append(res.IDs, id)
		piece := ""
		if tok != nil {
			piece = stream.push(tok, id)
		}
		if opt.OnToken != nil && !opt.OnToken(id, piece) {
			res.StopReason = "callback"
			break
		}
		if opt.StopEOS && id == eos {
			res.StopReason = "eos"
			break
		}
		if len(opt.StopStrings) > 0 && stream.contains(opt.StopStrings) {
			res.StopReason = "stop_string"
			break
		}
		if len(res.IDs) >= opt.MaxNew {
			break
		}
		// The sequence (prompt + new tokens) may not outgrow the context or the cache.
		if len(prompt)+len(res.IDs) >= min(s.S, cfg.MaxPositions) {
			res.StopReason = "context"
			break
		}
		if logits, err = s.Feed([]int{id}); err != nil {
			return res, err
		}
	}
	if tok != nil {
		res.Text = tok.Decode(tokenizer.StripSpecial(tok, res.IDs))
		for _, ss := range opt.StopStrings {
			if i := strings.Index(res.Text, ss); ss != "" && i >= 0 {
				res.Text = res.Text[:i]
			}
		}
	}
	return res, nil
}

// textStream turns a token stream into text pieces that never split a UTF-8 character: bytes of an
// incomplete trailing character are held back until the tokens that complete it arrive.
type textStream struct {
	bytes   []byte
	emitted int
	text    strings.Builder
}

func (ts *textStream) push(tok tokenizer.Tokenizer, id int) string {
	if tok.IsSpecial(id) {
		return ""
	}
	ts.bytes = append(ts.bytes, tok.DecodeBytes([]int{id})...)
	end := len(ts.bytes)
	// Hold back at most 3 bytes of a character that may still be completed.
	for k := 1; k <= 3 && k <= end-ts.emitted; k++ {
		r := ts.bytes[end-k]
		if r >= 0xC0 { // a lead byte: is its sequence complete?
			if !utf8.FullRune(ts.bytes[end-k:]) {
				end -= k
			}
			break
		}
		if r < 0x80 {
			break
		}
	}
	piece := strings.ToValidUTF8(string(ts.bytes[ts.emitted:end]), "\uFFFD")
	ts.emitted = end
	ts.text.WriteString(piece)
	return piece
}

func (ts *textStream) contains(stops []string) bool {
	t := ts.text.String()
	for _, s := range stops {
		if s != "" && strings.Contains(t, s) {
			return true
		}
	}
	return false
}
