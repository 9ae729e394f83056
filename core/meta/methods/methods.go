// Package methods registers every method of the workbench with core/meta's
// registry: import it (for its side effect) wherever meta.New or meta.Names
// must know them all.
package methods

import (
	_ "github.com/degaml/workbench/core/meta/abmll"  // abmll
	_ "github.com/degaml/workbench/core/meta/degaml" // degaml-gen, degaml
	_ "github.com/degaml/workbench/core/meta/lora"   // nometa-lora, union-lora
	_ "github.com/degaml/workbench/core/meta/maml"   // maml-en-llm
)
