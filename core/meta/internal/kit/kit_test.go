package kit

import (
	"strings"
	"testing"

	"github.com/degaml/workbench/core/meta"
)

type ownArtifact struct{}

func (*ownArtifact) Save(string) error { return nil }

type otherArtifact struct{}

func (*otherArtifact) Save(string) error { return nil }

// An Adapt refuses an unusable environment, another method's artifact, a
// typed nil and no artifact, and gets its own artifact back unchanged.
func TestAdaptStart(t *testing.T) {
	if _, err := AdaptStart[ownArtifact](nil, &ownArtifact{}, "m"); err == nil || !strings.Contains(err.Error(), "backend") {
		t.Fatalf("nil env: err = %v", err)
	}
	for _, c := range []struct {
		name string
		art  meta.Artifact
	}{{"other", &otherArtifact{}}, {"typed nil", (*ownArtifact)(nil)}, {"nil", nil}} {
		if _, err := artifactOf[ownArtifact](c.art, "m"); err == nil || !strings.Contains(err.Error(), "m needs its meta-trained artifact") {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	own := &ownArtifact{}
	if got, err := artifactOf[ownArtifact](own, "m"); err != nil || got != own {
		t.Fatalf("own artifact: %v, %v", got, err)
	}
}
