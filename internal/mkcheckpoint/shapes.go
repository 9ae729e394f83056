// Package mkcheckpoint writes random-weight Hugging Face checkpoints of
// published model shapes (config.json, BF16 safetensors, sharded when large,
// tokenizer.json), so every real-size path — loading, memory, speed, LoRA —
// can be exercised on any machine without downloading weights. Real
// checkpoints of the same shapes load through exactly the same code.
package mkcheckpoint

import (
	"fmt"
	"sort"
	"strings"
)

// Shape is a published model shape: its config.json (exact hyperparameters)
// and the layout of its tokenizer.
type Shape struct {
	Name        string
	Description string
	// Config is written as config.json, keys sorted (as transformers does).
	Config map[string]any
	// Tokenizer layout: Llama3 selects the Llama-3 pre-tokenizer (digits in
	// threes, no NFC, a <|begin_of_text|> prefix) instead of Qwen2's.
	Llama3 bool
	// Specials are the added (special) tokens by id; every other id below
	// vocab_size is a byte-level BPE token.
	Specials map[int]string
	// BOS, EOS, PAD name tokenizer_config.json's tokens ("" for none).
	BOS, EOS, PAD string
}

var qwenSpecials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
	"<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
	"<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
	"<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"}

// qwenSpecialMap places Qwen2.5's 22 added tokens at their published ids
// (151643 = <|endoftext|> ...), or right after a tiny vocabulary's BPE part.
func qwenSpecialMap(first int) map[int]string {
	m := map[int]string{}
	for i, s := range qwenSpecials {
		m[first+i] = s
	}
	return m
}

// llamaSpecialMap places Llama 3's 256 added tokens from first on, the named
// ones at their published offsets.
func llamaSpecialMap(first int) map[int]string {
	named := map[int]string{0: "<|begin_of_text|>", 1: "<|end_of_text|>", 6: "<|start_header_id|>",
		7: "<|end_header_id|>", 8: "<|eom_id|>", 9: "<|eot_id|>", 10: "<|python_tag|>"}
	m := map[int]string{}
	reserved := 0
	for i := range 256 {
		if s, ok := named[i]; ok {
			m[first+i] = s
			continue
		}
		m[first+i] = fmt.Sprintf("<|reserved_special_token_%d|>", reserved)
		reserved++
	}
	return m
}

func qwen2Config(hidden, inter, layers, heads, kv, maxWindow int, vocab int, bos, eos int) map[string]any {
	return map[string]any{
		"architectures":           []string{"Qwen2ForCausalLM"},
		"attention_dropout":       0.0,
		"bos_token_id":            bos,
		"eos_token_id":            eos,
		"hidden_act":              "silu",
		"hidden_size":             hidden,
		"initializer_range":       0.02,
		"intermediate_size":       inter,
		"max_position_embeddings": 32768,
		"max_window_layers":       maxWindow,
		"model_type":              "qwen2",
		"num_attention_heads":     heads,
		"num_hidden_layers":       layers,
		"num_key_value_heads":     kv,
		"rms_norm_eps":            1e-6,
		"rope_theta":              1000000.0,
		"sliding_window":          32768,
		"tie_word_embeddings":     true,
		"torch_dtype":             "bfloat16",
		"transformers_version":    "4.43.1",
		"use_cache":               true,
		"use_sliding_window":      false,
		"vocab_size":              vocab,
	}
}

func llamaConfig(hidden, inter, layers, heads, kv, headDim, vocab, bos, eos int, ropeScaling bool) map[string]any {
	c := map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"attention_bias":          false,
		"attention_dropout":       0.0,
		"bos_token_id":            bos,
		"eos_token_id":            eos,
		"head_dim":                headDim,
		"hidden_act":              "silu",
		"hidden_size":             hidden,
		"initializer_range":       0.02,
		"intermediate_size":       inter,
		"max_position_embeddings": 131072,
		"mlp_bias":                false,
		"model_type":              "llama",
		"num_attention_heads":     heads,
		"num_hidden_layers":       layers,
		"num_key_value_heads":     kv,
		"pretraining_tp":          1,
		"rms_norm_eps":            1e-5,
		"rope_theta":              500000.0,
		"tie_word_embeddings":     true,
		"torch_dtype":             "bfloat16",
		"transformers_version":    "4.45.0.dev0",
		"use_cache":               true,
		"vocab_size":              vocab,
	}
	if ropeScaling {
		c["rope_scaling"] = map[string]any{"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
			"original_max_position_embeddings": 8192, "rope_type": "llama3"}
	}
	return c
}

// shapes lists the published shapes (hyperparameters as in the models'
// config.json files on their hubs) and two tiny ones for fast tests.
var shapes = []Shape{
	{
		Name:        "qwen2.5-0.5b",
		Description: "Qwen2.5-0.5B-Instruct: 24 layers × 896, GQA 14/2, vocab 151,936, tied (494 M parameters)",
		Config:      qwen2Config(896, 4864, 24, 14, 2, 21, 151936, 151643, 151645),
		Specials:    qwenSpecialMap(151643), BOS: "", EOS: "<|im_end|>", PAD: "<|endoftext|>",
	},
	{
		Name:        "qwen2.5-1.5b",
		Description: "Qwen2.5-1.5B-Instruct: 28 layers × 1536, GQA 12/2, vocab 151,936, tied (1.54 B parameters)",
		Config:      qwen2Config(1536, 8960, 28, 12, 2, 21, 151936, 151643, 151645),
		Specials:    qwenSpecialMap(151643), BOS: "", EOS: "<|im_end|>", PAD: "<|endoftext|>",
	},
	{
		Name: "llama-3.2-1b",
		Description: "Llama-3.2-1B: 16 layers × 2048, GQA 32/8, vocab 128,256, tied, llama3 rope scaling " +
			"(1.24 B parameters)",
		Config: llamaConfig(2048, 8192, 16, 32, 8, 64, 128256, 128000, 128001, true),
		Llama3: true, Specials: llamaSpecialMap(128000), BOS: "<|begin_of_text|>", EOS: "<|end_of_text|>",
	},
	{
		Name:        "tiny-qwen2",
		Description: "Qwen2.5 layout at toy size (tests): 2 layers × 64, vocab 1,024",
		Config:      qwen2Config(64, 176, 2, 4, 2, 2, 1024, 1024-22, 1024-20),
		Specials:    qwenSpecialMap(1024 - 22), BOS: "", EOS: "<|im_end|>", PAD: "<|endoftext|>",
	},
	{
		Name:        "tiny-llama",
		Description: "Llama-3.2 layout at toy size (tests): 2 layers × 64, vocab 1,024, no rope scaling",
		Config:      llamaConfig(64, 128, 2, 4, 2, 16, 1024, 1024-256, 1024-255, false),
		Llama3:      true, Specials: llamaSpecialMap(1024 - 256), BOS: "<|begin_of_text|>", EOS: "<|end_of_text|>",
	},
}

func init() {
	for i := range shapes { // the toy shapes keep a small context
		if strings.HasPrefix(shapes[i].Name, "tiny-") {
			shapes[i].Config["max_position_embeddings"] = 256
		}
	}
}

// Shapes lists the known shapes.
func Shapes() []Shape { return append([]Shape(nil), shapes...) }

// Lookup returns the named shape (a copy whose Config may be edited).
func Lookup(name string) (Shape, error) {
	for _, s := range shapes {
		if s.Name == name {
			c := make(map[string]any, len(s.Config))
			for k, v := range s.Config {
				c[k] = v
			}
			s.Config = c
			return s, nil
		}
	}
	names := make([]string, len(shapes))
	for i, s := range shapes {
		names[i] = s.Name
	}
	sort.Strings(names)
	return Shape{}, fmt.Errorf("mkcheckpoint: unknown shape %q (have %s)", name, strings.Join(names, ", "))
}
