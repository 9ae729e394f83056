package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/degaml/workbench/internal/mkcheckpoint"
	"github.com/degaml/workbench/models"
)

func init() {
	register("models", "list the built-in model presets with their parameter counts (--json); "+
		"models make-random --shape NAME --out DIR writes a random checkpoint of a published shape; "+
		"models measure --model DIR times load, first token, decode and a LoRA step", cmdModels)
}

// cmdModels implements `workbench models [--json]` and `workbench models make-random ...`.
func cmdModels(args []string) error {
	if len(args) > 0 && args[0] == "make-random" {
		return makeRandom(os.Stdout, args[1:])
	}
	if len(args) > 0 && args[0] == "measure" {
		return measureModel(os.Stdout, args[1:])
	}
	return listModels(os.Stdout, args)
}

// makeRandom implements `workbench models make-random --shape NAME --out DIR [--seed N] [--max-shard-mib N]`.
// It lives in the binary (not a separate tool) so that anyone measuring real sizes — a CI job, a researcher
// on a GPU machine — has the generator wherever the workbench is installed.
func makeRandom(w io.Writer, args []string) error {
	fs := newFlags("models make-random")
	shape := fs.String("shape", "", "published shape: "+shapeNames())
	out := fs.String("out", "", "directory to write (created; existing checkpoint files are replaced)")
	seed := fs.Uint64("seed", 0, "weight seed")
	shardMiB := fs.Int64("max-shard-mib", 2048, "split the weights into shards of at most this many MiB")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("models make-random: unexpected arguments %q", fs.Args())
	}
	if *shape == "" || *out == "" {
		return fmt.Errorf("models make-random: --shape and --out are required (shapes: %s)", shapeNames())
	}
	if *shardMiB <= 0 {
		return fmt.Errorf("models make-random: --max-shard-mib %d must be positive", *shardMiB)
	}
	s, err := mkcheckpoint.Lookup(*shape)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := mkcheckpoint.Write(*out, s, mkcheckpoint.Options{Seed: *seed, MaxShardBytes: *shardMiB << 20}); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s (%s) to %s in %.1fs\n", s.Name, s.Description, *out, time.Since(start).Seconds())
	return nil
}

func shapeNames() string {
	var names []string
	for _, s := range mkcheckpoint.Shapes() {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

type presetJSON struct {
	Name        string        `json:"name"`
	Params      int64         `json:"params"`
	Description string        `json:"description"`
	Config      models.Config `json:"config"`
}

func listModels(w io.Writer, args []string) error {
	fs := newFlags("models")
	asJSON := fs.Bool("json", false, "print a JSON array of presets")
	var cf commonFlags
	cf.registerPlaces(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := cf.load(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("models: unexpected arguments %q", fs.Args())
	}
	ps := models.Presets()
	if *asJSON {
		out := make([]presetJSON, len(ps))
		for i, p := range ps {
			out[i] = presetJSON{Name: p.Name, Params: p.Params, Description: p.Description, Config: p.Config}
		}
		enc := json.NewEncoder(w)
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPARAMS\tLAYERS\tHIDDEN\tHEADS/KV\tFF\tCONTEXT\tDESCRIPTION")
	for _, p := range ps {
		c := p.Config
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d/%d\t%d\t%d\t%s\n", p.Name, p.Params, c.NumLayers, c.HiddenSize,
			c.NumHeads, c.NumKVHeads, c.IntermediateSize, c.MaxPositions, p.Description)
	}
	return tw.Flush()
}
