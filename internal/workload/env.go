package workload

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/workload/azure"
)

// ErrNoModelDir is the error of building a workload with no model zoo.
var ErrNoModelDir = errors.New("CLOCKWORK_MODEL_DIR variable not set, exiting")

// Env is what building a named workload takes from its surroundings.
// Builders check everything they read from disk (zoo, trace) before their
// first load, so a bad argument never leaves half a workload loaded on
// the controller.
type Env struct {
	Engine   *Engine // receives the workloads; prints the console lines
	Loader   Loader
	ModelDir string // CLOCKWORK_MODEL_DIR
	TraceDir string // AZURE_TRACE_DIR

	zoo []model.Entry
}

// Zoo lists the models in ModelDir alphabetically, printing "Found <N>
// models in <dir>" the first time.
func (env *Env) Zoo() ([]model.Entry, error) {
	if env.zoo != nil {
		return env.zoo, nil
	}
	if env.ModelDir == "" {
		return nil, ErrNoModelDir
	}
	zoo, err := model.Discover(env.ModelDir)
	if err != nil {
		return nil, err
	}
	env.Engine.Printf("Found %d models in %s\n", len(zoo), env.ModelDir)
	if len(zoo) == 0 {
		return nil, fmt.Errorf("no models in %s", env.ModelDir)
	}
	env.zoo = zoo
	return zoo, nil
}

// ModelPath is the path prefix of the zoo model called name.
func (env *Env) ModelPath(name string) (string, error) {
	zoo, err := env.Zoo()
	if err != nil {
		return "", err
	}
	e, ok := model.Lookup(zoo, name)
	if !ok {
		names := make([]string, len(zoo))
		for i, e := range zoo {
			names[i] = e.Name
		}
		return "", fmt.Errorf("Unknown model %s\nValid models: %s", name, strings.Join(names, " "))
	}
	return e.Path, nil
}

// Trace loads day's Azure Functions trace from TraceDir, most invoked
// function first.
func (env *Env) Trace(day int) ([][]uint32, error) { return azure.Load(env.TraceDir, day) }

// Load creates copies instances of the model at path.
func (env *Env) Load(path string, copies int) ([]Model, error) {
	ms, err := env.Loader.LoadRemoteModels(path, copies)
	if err != nil {
		return nil, fmt.Errorf("loading %d copies of %s: %w", copies, path, err)
	}
	if len(ms) != copies {
		return nil, fmt.Errorf("loading %d copies of %s: the controller created %d", copies, path, len(ms))
	}
	return ms, nil
}

// LoadZooModel creates copies instances of the zoo model called name.
func (env *Env) LoadZooModel(name string, copies int) ([]Model, error) {
	path, err := env.ModelPath(name)
	if err != nil {
		return nil, err
	}
	return env.Load(path, copies)
}
