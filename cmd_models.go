package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/degaml/workbench/models"
)

func init() {
	register("models", "list the built-in model presets with their parameter counts (--json)", cmdModels)
}

// cmdModels implements `workbench models [--json]`.
func cmdModels(args []string) error { return listModels(os.Stdout, args) }

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
