package workload

// Model is what a workload needs of a model instance on the controller.
// *client.Model implements it; tests use models that answer in virtual time.
type Model interface {
	ID() uint32
	InputSize() uint64
	// InferAsync sends one request and calls done from any goroutine; with
	// compressed set, input is an LZ4-compressed item sent as is.
	InferAsync(input []byte, compressed bool, done func(output []byte, err error))
	SetSLOFactor(f float32)
	SetUserID(id int32)
}

// Loader creates model instances on the controller, as
// client.Client.LoadRemoteModels does: copies instances of the model at
// path, with consecutive ids.
type Loader interface {
	LoadRemoteModels(path string, copies int) ([]Model, error)
}
