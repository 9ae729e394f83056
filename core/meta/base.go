package meta

import (
	"context"

	"github.com/degaml/workbench/core/events"
	"github.com/degaml/workbench/tasks"
)

// baseMethod is the frozen model: nothing to learn, nothing to adapt.
type baseMethod struct{}

func (baseMethod) Name() string { return Base }

func (baseMethod) MetaTrain(context.Context, *Env, []*tasks.Task) (Artifact, error) { return nil, nil }

func (baseMethod) LoadArtifact(string) (Artifact, error) { return nil, nil }

func (baseMethod) Adapt(ctx context.Context, env *Env, _ Artifact, task *tasks.Task, _ int64) (*Adapted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	env.Publish(events.Event{Kind: events.Log, Method: Base, Task: task.Name, Message: "frozen base model, no adaptation"})
	return &Adapted{}, nil
}
