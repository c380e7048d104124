//go:build linux && cgo

package cuda

/*
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "cw.h"
*/
import "C"

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// EnvLibDir names the environment variable with colon-separated
// directories searched before any other place.
const EnvLibDir = "CLOCKWORK_CUDA_LIB_DIR"

// Library is a shared library this package opened. Libraries stay open
// for the life of the process.
type Library struct {
	Name      string   // soname that was opened, e.g. "libcudnn.so.9"
	Path      string   // file the dynamic loader mapped
	Missing   []string // symbols of this package that the library lacks
	Preloaded []string // sibling libraries opened first from the same directory
}

// LoadError reports a library that could not be opened.
type LoadError struct {
	Names    []string // sonames tried, preferred first
	Searched []string // places searched, in order
	Failed   []string // files that exist but did not load, with the loader's reason
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString("cuda: ")
	b.WriteString(e.Names[0])
	if len(e.Failed) > 0 {
		b.WriteString(" could not be loaded: ")
		b.WriteString(strings.Join(e.Failed, "; "))
	} else {
		b.WriteString(" not found")
	}
	if len(e.Names) > 1 {
		b.WriteString(" (also tried ")
		b.WriteString(strings.Join(e.Names[1:], ", "))
		b.WriteString(")")
	}
	b.WriteString(" (searched: ")
	b.WriteString(strings.Join(e.Searched, ", "))
	b.WriteString("; set " + EnvLibDir + " to its directory)")
	return b.String()
}

// ErrNoSymbol is wrapped by the error of a call whose library is not
// loaded or lacks the function.
var ErrNoSymbol = errors.New("function not available")

// libSpec says how to find one library.
type libSpec struct {
	names    []string // sonames, preferred first
	siblings []string // glob patterns opened first from the directory the library is found in
	table    func() (*C.cw_sym, C.int)
}

// loader opens a library once and remembers the outcome.
type loader struct {
	spec libSpec
	mu   sync.Mutex
	done bool
	lib  *Library
	err  error
}

func (l *loader) load() (*Library, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.lib, l.err = open(l.spec, os.Getenv)
		l.done = true
	}
	return l.lib, l.err
}

// noSymbol builds the error of a call whose function pointer is null.
func (l *loader) noSymbol(fn string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := l.spec.names[0] + " is not loaded"
	if l.lib != nil {
		msg = "not in " + l.lib.Path
	}
	return &Error{Func: fn, Code: CodeNoSymbol, Msg: msg}
}

// fixedDirs are searched after the dynamic loader's own search.
var fixedDirs = archDirs(runtime.GOARCH, []string{
	"/usr/local/cuda/lib64",
	"/usr/local/cuda/targets/$TARGET/lib",
	"/usr/lib/$MULTIARCH",
	"/usr/local/nvidia/lib64",
	"/usr/lib64",
})

// globDirs are searched last: CUDA toolkits of other versions and the
// NVIDIA wheels that PyTorch installs (site-packages/nvidia/<pkg>/lib),
// where cuDNN, cuBLAS and NVRTC may be the only copies on a GPU host.
var globDirs = archDirs(runtime.GOARCH, []string{
	"/usr/local/cuda-*/lib64",
	"/usr/local/cuda-*/targets/$TARGET/lib",
	"/usr/local/lib/python3*/dist-packages/nvidia/*/lib",
	"/usr/local/lib/python3*/site-packages/nvidia/*/lib",
	"/usr/lib/python3*/dist-packages/nvidia/*/lib",
	"/opt/conda/lib/python3*/site-packages/nvidia/*/lib",
	"$HOME/.local/lib/python3*/site-packages/nvidia/*/lib",
	"$VIRTUAL_ENV/lib/python3*/site-packages/nvidia/*/lib",
	"$CONDA_PREFIX/lib/python3*/site-packages/nvidia/*/lib",
	"/usr/local/lib/python3*/dist-packages/torch/lib",
	"/usr/local/lib/python3*/site-packages/torch/lib",
	"$CONDA_PREFIX/lib",
	"/opt/conda/lib",
})

// archDirs puts the machine's architecture into dirs: $TARGET as the
// CUDA toolkit names it under targets/ and $MULTIARCH as Debian's and
// Ubuntu's library directories do. An arm64 server (a Grace Hopper) has
// the toolkit's sbsa-linux, a Jetson aarch64-linux; a directory that
// does not exist costs one failed look-up. Other variables are left for
// searchPath to expand from the environment.
func archDirs(goarch string, dirs []string) []string {
	targets, multiarch := []string{goarch + "-linux"}, goarch+"-linux-gnu"
	switch goarch {
	case "amd64":
		targets, multiarch = []string{"x86_64-linux"}, "x86_64-linux-gnu"
	case "arm64":
		targets, multiarch = []string{"sbsa-linux", "aarch64-linux"}, "aarch64-linux-gnu"
	case "ppc64le":
		targets, multiarch = []string{"ppc64le-linux"}, "powerpc64le-linux-gnu"
	}
	var out []string
	for _, d := range dirs {
		switch {
		case strings.Contains(d, "$TARGET"):
			for _, t := range targets {
				out = append(out, strings.ReplaceAll(d, "$TARGET", t))
			}
		default:
			out = append(out, strings.ReplaceAll(d, "$MULTIARCH", multiarch))
		}
	}
	return out
}

// loaderDir stands for the dynamic loader's own search (LD_LIBRARY_PATH,
// the ld.so cache, the default directories).
const loaderDir = ""

// searchPath returns the directories to search, in order, and a
// description of each place for error messages.
func searchPath(getenv func(string) string) (dirs, places []string) {
	seen := map[string]bool{}
	add := func(d string) {
		if !seen[d] {
			seen[d] = true
			dirs = append(dirs, d)
		}
	}
	if v := getenv(EnvLibDir); v != "" {
		for _, d := range filepath.SplitList(v) {
			if d != "" {
				add(filepath.Clean(d))
			}
		}
		places = append(places, "$"+EnvLibDir+"="+v)
	}
	add(loaderDir)
	places = append(places, "dynamic loader")
	for _, d := range fixedDirs {
		add(d)
		places = append(places, d)
	}
	for _, pattern := range globDirs {
		unset := false
		p := os.Expand(pattern, func(k string) string {
			v := getenv(k)
			unset = unset || v == ""
			return v
		})
		if unset {
			continue
		}
		matches, _ := filepath.Glob(p)
		for _, d := range matches {
			add(d)
		}
		places = append(places, pattern)
	}
	return dirs, places
}

// open finds and opens the first library of spec, resolving its symbols.
func open(spec libSpec, getenv func(string) string) (*Library, error) {
	dirs, places := searchPath(getenv)
	var failed []string
	for _, name := range spec.names {
		for _, dir := range dirs {
			path := name
			if dir != loaderDir {
				path = filepath.Join(dir, name)
				if _, err := os.Stat(path); err != nil {
					continue
				}
			}
			var pre []string
			if dir != loaderDir {
				pre = preload(dir, spec.siblings)
			}
			h, err := dlopen(path)
			if err != nil {
				if dir != loaderDir || !strings.HasPrefix(err.Error(), name+": cannot open shared object file") {
					failed = append(failed, err.Error())
				}
				continue
			}
			lib := &Library{Name: name, Path: C.GoString(C.cw_dlpath(h)), Preloaded: pre}
			if spec.table != nil {
				lib.Missing = resolve(h, spec.table)
			}
			return lib, nil
		}
	}
	return nil, &LoadError{Names: spec.names, Searched: places, Failed: failed}
}

// preload opens the libraries of dir matching patterns, in order, so that
// a library found outside the loader's path finds its dependencies (the
// loader matches an already open library by soname). Failures are left
// for the main library's own load to report.
func preload(dir string, patterns []string) []string {
	var opened []string
	for _, pattern := range patterns {
		matches, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, path := range matches {
			if _, err := dlopen(path); err == nil {
				opened = append(opened, filepath.Base(path))
			}
		}
	}
	return opened
}

func dlopen(path string) (unsafe.Pointer, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var buf [512]C.char
	h := C.cw_dlopen(cpath, &buf[0], C.size_t(len(buf)))
	if h == nil {
		return nil, errors.New(C.GoString(&buf[0]))
	}
	return h, nil
}

// resolve fills the library's function pointers and returns the names of
// the missing ones.
func resolve(h unsafe.Pointer, table func() (*C.cw_sym, C.int)) []string {
	p, n := table()
	C.cw_resolve(h, p, n)
	var missing []string
	for _, s := range unsafe.Slice(p, int(n)) {
		if *s.slot == nil {
			missing = append(missing, C.GoString(s.name))
		}
	}
	return missing
}
