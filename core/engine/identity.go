package engine

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
)

// SkipIdentityTransposes wraps a backend so that a Transpose whose permutation is the identity becomes a
// Reshape to the same shape. GoMLX's DotGeneral gradient always ends with such a transpose. The go backend
// of compute v0.1.14 executes it as a buffer copy (v0.1.2 walked a generic index iterator), while a same-shape
// Reshape reuses its input buffer when it can: still ≈5 % of a LoRA or full train step's CPU time on
// v0.28.16 (BENCHMARKS.md). New applies it to every "go" backend. Everything else is delegated unchanged.
func SkipIdentityTransposes(b compute.Backend) compute.Backend {
	if _, ok := b.(*idBackend); ok || b == nil {
		return b
	}
	return &idBackend{Backend: b}
}

// SkipsIdentityTransposes reports whether b is wrapped by SkipIdentityTransposes.
func SkipsIdentityTransposes(b compute.Backend) bool {
	_, ok := b.(*idBackend)
	return ok
}

type idBackend struct{ compute.Backend }

func (b *idBackend) Builder(name string) compute.Builder {
	return &idBuilder{Builder: b.Backend.Builder(name), backend: b, wrapped: map[compute.Function]*idFunction{}}
}

type idBuilder struct {
	compute.Builder
	backend *idBackend
	wrapped map[compute.Function]*idFunction // one wrapper per inner function, so identities compare equal
}

func (b *idBuilder) wrap(f compute.Function) compute.Function {
	if f == nil {
		return nil
	}
	if w, ok := b.wrapped[f]; ok {
		return w
	}
	w := &idFunction{Function: f, b: b}
	b.wrapped[f] = w
	return w
}

func (b *idBuilder) Main() compute.Function { return b.wrap(b.Builder.Main()) }

func (b *idBuilder) NewFunction(name string) (compute.Function, error) {
	f, err := b.Builder.NewFunction(name)
	if err != nil {
		return nil, err
	}
	return b.wrap(f), nil
}

type idFunction struct {
	compute.Function
	b *idBuilder
}

func unwrapFn(f compute.Function) compute.Function {
	if w, ok := f.(*idFunction); ok {
		return w.Function
	}
	return f
}

func (f *idFunction) Builder() compute.Builder { return f.b }
func (f *idFunction) Parent() compute.Function { return f.b.wrap(f.Function.Parent()) }

func (f *idFunction) Closure() (compute.Function, error) {
	c, err := f.Function.Closure()
	if err != nil {
		return nil, err
	}
	return f.b.wrap(c), nil
}

func (f *idFunction) Call(fn compute.Function, inputs ...compute.Value) ([]compute.Value, error) {
	return f.Function.Call(unwrapFn(fn), inputs...)
}

func (f *idFunction) Sort(comparator compute.Function, axis int, isStable bool, inputs ...compute.Value) ([]compute.Value, error) {
	return f.Function.Sort(unwrapFn(comparator), axis, isStable, inputs...)
}

func (f *idFunction) While(cond, body compute.Function, initialState ...compute.Value) ([]compute.Value, error) {
	return f.Function.While(unwrapFn(cond), unwrapFn(body), initialState...)
}

func (f *idFunction) If(pred compute.Value, trueBranch, falseBranch compute.Function) ([]compute.Value, error) {
	return f.Function.If(pred, unwrapFn(trueBranch), unwrapFn(falseBranch))
}

func (f *idFunction) Transpose(x compute.Value, permutation ...int) (compute.Value, error) {
	identity := true
	for i, p := range permutation {
		if i != p {
			identity = false
			break
		}
	}
	if !identity {
		return f.Function.Transpose(x, permutation...)
	}
	s, err := f.Function.Shape(x)
	if err != nil {
		return nil, err
	}
	return f.Function.Reshape(x, s.Dimensions...)
}

// Buffers and executables are wrapped too: GoMLX ties every tensor to the backend instance its buffer
// reports, so buffers must report the wrapper (and are unwrapped on the way in).

type idBuffer struct {
	compute.Buffer
	b *idBackend
}

func (x *idBuffer) Backend() compute.Backend { return x.b }

func (x *idBuffer) CopyToDevice(deviceNum compute.DeviceNum) (compute.Buffer, error) {
	c, err := x.Buffer.CopyToDevice(deviceNum)
	return x.b.wrapBuf(c), err
}

func (b *idBackend) wrapBuf(x compute.Buffer) compute.Buffer {
	if x == nil {
		return nil
	}
	return &idBuffer{Buffer: x, b: b}
}

func unwrapBuf(x compute.Buffer) compute.Buffer {
	if w, ok := x.(*idBuffer); ok {
		return w.Buffer
	}
	return x
}

func (b *idBackend) BufferFromFlatData(deviceNum compute.DeviceNum, flat any, shape shapes.Shape) (compute.Buffer, error) {
	x, err := b.Backend.BufferFromFlatData(deviceNum, flat, shape)
	return b.wrapBuf(x), err
}

func (b *idBackend) NewSharedBuffer(deviceNum compute.DeviceNum, shape shapes.Shape) (compute.Buffer, any, error) {
	x, flat, err := b.Backend.NewSharedBuffer(deviceNum, shape)
	return b.wrapBuf(x), flat, err
}

func (b *idBuilder) Compile() (compute.Executable, error) {
	e, err := b.Builder.Compile()
	if err != nil {
		return nil, err
	}
	return &idExecutable{Executable: e, b: b.backend}, nil
}

type idExecutable struct {
	compute.Executable
	b *idBackend
}

func (e *idExecutable) Execute(inputs []compute.Buffer, donate []bool, dev compute.DeviceNum) ([]compute.Buffer, error) {
	in := make([]compute.Buffer, len(inputs))
	for i, x := range inputs {
		in[i] = unwrapBuf(x)
	}
	out, err := e.Executable.Execute(in, donate, dev)
	for i, x := range out {
		out[i] = e.b.wrapBuf(x)
	}
	return out, err
}
