//go:build !linux || !cgo

package device

import (
	"errors"
	"io"

	"github.com/clockwork-go/clockwork/internal/runtime"
)

// errNoCUDA says why this build has no CUDA runtime: package cuda binds
// the NVIDIA libraries through cgo, on Linux.
var errNoCUDA = errors.New("this binary was built without the CUDA runtime (it needs Linux and cgo: build with CGO_ENABLED=1 and a C compiler)")

func openCUDA(Config, io.Writer) (runtime.Runtime, error) { return nil, errNoCUDA }

// VersionLine fails: this build has no CUDA runtime.
func VersionLine() (string, error) { return "", errNoCUDA }
