package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// File is the ONNX file of the model whose path prefix is prefix: the
// worker protocol names models by prefixes such as /zoo/resnet50/model,
// and the file is /zoo/resnet50/model.onnx.
func File(prefix string) string { return prefix + ".onnx" }

// BatchSizes are the batch sizes runtimes prepare a model for, up to the
// largest the controller asks for.
var BatchSizes = []int{1, 2, 4, 8, 16}

// ReadFile imports the model at path prefix with weights laid out in pages
// of pageSize bytes. Its errors name the prefix or the file.
func ReadFile(prefix string, pageSize int64) (*Model, error) {
	data, err := os.ReadFile(File(prefix))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("invalid model path %s: no model file %s", prefix, File(prefix))
		}
		return nil, fmt.Errorf("invalid model path %s: %v", prefix, err)
	}
	m, err := Import(data, Options{PageSize: pageSize})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", File(prefix), err)
	}
	return m, nil
}
