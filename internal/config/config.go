// Package config loads the worker configuration the way the original does:
// every value comes from the default file (config/default.cfg next to the
// build directory) and may be overridden by a user file given with -c or
// CLOCKWORK_CONFIG_FILE. Unlike the original, a missing default file is not
// fatal (the defaults are compiled in), and a bad user file is an error
// returned to the caller rather than an abort.
package config

import (
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/clockwork-go/clockwork/internal/libconfig"
)

//go:embed default.cfg
var builtin string

// Worker is the worker configuration.
type Worker struct {
	WeightsCacheSize      uint64 // bytes of weights cache per GPU
	PageSize              uint64 // weights page size
	IOPoolSize            uint64 // per-GPU device pool for inputs/outputs
	WorkspacePoolSize     uint64 // per-GPU device pool for activations
	HostIOPoolSize        uint64 // pinned host pool
	EnableTaskTelemetry   bool
	EnableActionTelemetry bool
	TelemetryLogDir       string
	AllowZeroSizeInputs   bool
}

// Pages is the number of weights pages per GPU.
func (w *Worker) Pages() int {
	if w.PageSize == 0 {
		return 0
	}
	return int(w.WeightsCacheSize / w.PageSize)
}

// key binds a dotted setting name to the field it sets.
type key struct {
	path string
	kind libconfig.Kind
	set  func(*Worker, *libconfig.Setting)
}

var keys = []key{
	{"memory_settings.weights_cache_size", libconfig.KindInt, func(w *Worker, s *libconfig.Setting) { w.WeightsCacheSize = uint64(s.Int) }},
	{"memory_settings.weights_cache_page_size", libconfig.KindInt, func(w *Worker, s *libconfig.Setting) { w.PageSize = uint64(s.Int) }},
	{"memory_settings.io_pool_size", libconfig.KindInt, func(w *Worker, s *libconfig.Setting) { w.IOPoolSize = uint64(s.Int) }},
	{"memory_settings.workspace_pool_size", libconfig.KindInt, func(w *Worker, s *libconfig.Setting) { w.WorkspacePoolSize = uint64(s.Int) }},
	{"memory_settings.host_io_pool_size", libconfig.KindInt, func(w *Worker, s *libconfig.Setting) { w.HostIOPoolSize = uint64(s.Int) }},
	{"telemetry_settings.enable_task_telemetry", libconfig.KindBool, func(w *Worker, s *libconfig.Setting) { w.EnableTaskTelemetry = s.Bool }},
	{"telemetry_settings.enable_action_telemetry", libconfig.KindBool, func(w *Worker, s *libconfig.Setting) { w.EnableActionTelemetry = s.Bool }},
	{"log_dir.telemetry_log_dir", libconfig.KindString, func(w *Worker, s *libconfig.Setting) { w.TelemetryLogDir = s.Str }},
	{"allow_zero_size_inputs", libconfig.KindBool, func(w *Worker, s *libconfig.Setting) { w.AllowZeroSizeInputs = s.Bool }},
}

// DefaultPath is where the original looks for the default file:
// <dir of the executable>/../config/default.cfg.
func DefaultPath() string {
	exe, err := os.Executable()
	if err != nil {
		return filepath.Join("config", "default.cfg")
	}
	return filepath.Join(filepath.Dir(filepath.Dir(exe)), "config", "default.cfg")
}

// Load reads the default file at defaultPath (the compiled-in defaults if
// it does not exist) and then the user file (none if empty), printing the
// original's lines to log.
func Load(defaultPath, userPath string, log io.Writer) (*Worker, error) {
	src, from := builtin, "built-in defaults"
	if b, err := os.ReadFile(defaultPath); err == nil {
		src, from = string(b), defaultPath
	} else if !os.IsNotExist(err) {
		return nil, fmt.Errorf("reading %s: %w", defaultPath, err)
	}
	fmt.Fprintf(log, "Loading Clockwork worker default config from %s\n", from)
	def, err := libconfig.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", from, err)
	}
	w := &Worker{}
	for _, k := range keys {
		s := def.Lookup("WorkerConfig." + k.path)
		if s == nil {
			return nil, fmt.Errorf("%s: missing WorkerConfig.%s", from, k.path)
		}
		if s.Kind != k.kind {
			return nil, fmt.Errorf("%s: WorkerConfig.%s must be a %s", from, k.path, k.kind)
		}
		k.set(w, s)
	}
	if userPath != "" {
		if err := w.override(userPath, log); err != nil {
			return nil, err
		}
	}
	if err := w.validate(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Worker) override(path string, log io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading config %s: %w", path, err)
	}
	fmt.Fprintf(log, "Overriding default config using values in %s\n", path)
	user, err := libconfig.Parse(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := checkNames(user); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, k := range keys {
		s := user.Lookup("WorkerConfig." + k.path)
		if s == nil {
			continue
		}
		if s.Kind != k.kind {
			return fmt.Errorf("%s: line %d: WorkerConfig.%s must be a %s", path, s.Line, k.path, k.kind)
		}
		if s.Kind == libconfig.KindInt && s.Int < 0 {
			return fmt.Errorf("%s: line %d: WorkerConfig.%s must not be negative", path, s.Line, k.path)
		}
		k.set(w, s)
		fmt.Fprintf(log, "The default setting WorkerConfig.%s was overwritten to %s\n", k.path, render(s))
	}
	return nil
}

// checkNames rejects settings the worker does not know, as the original
// does, so that a misspelt key is not silently ignored.
func checkNames(g *libconfig.Group) error {
	if len(g.Settings) != 1 || g.Settings[0].Name != "WorkerConfig" || g.Settings[0].Kind != libconfig.KindGroup {
		return fmt.Errorf("the root must be a single group WorkerConfig")
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[k.path] = true
		for i := range k.path {
			if k.path[i] == '.' {
				known[k.path[:i]] = true
			}
		}
	}
	var walk func(prefix string, g *libconfig.Group) error
	walk = func(prefix string, g *libconfig.Group) error {
		for i := range g.Settings {
			s := &g.Settings[i]
			name := prefix + s.Name
			if !known[name] {
				return fmt.Errorf("line %d: unknown setting WorkerConfig.%s", s.Line, name)
			}
			if s.Kind == libconfig.KindGroup {
				if err := walk(name+".", s.Group); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk("", g.Settings[0].Group)
}

func render(s *libconfig.Setting) string {
	switch s.Kind {
	case libconfig.KindInt:
		return strconv.FormatInt(s.Int, 10)
	case libconfig.KindBool:
		return strconv.FormatBool(s.Bool)
	case libconfig.KindString:
		return s.Str
	}
	return strconv.FormatFloat(s.Float, 'g', -1, 64)
}

func (w *Worker) validate() error {
	if w.PageSize == 0 {
		return fmt.Errorf("weights_cache_page_size must be positive")
	}
	if w.WeightsCacheSize < w.PageSize {
		return fmt.Errorf("weights_cache_size (%d) is smaller than one page (%d)", w.WeightsCacheSize, w.PageSize)
	}
	if n := w.WeightsCacheSize / w.PageSize; n > MaxPages {
		return fmt.Errorf("weights_cache_size / weights_cache_page_size is %d pages; at most %d (make the pages larger)", n, MaxPages)
	}
	return nil
}

// MaxPages bounds a GPU's weights cache in pages. The worker keeps a free
// list of its pages, and GetWorkerState reports their number as an int32;
// 2^20 pages of the default 16 MiB are 16 TiB, where a page size of 1 byte
// would have had start-up allocate a free list of billions.
const MaxPages = 1 << 20

// UserPath picks the user config file: the flag value if set, else
// CLOCKWORK_CONFIG_FILE, else none.
func UserPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv("CLOCKWORK_CONFIG_FILE")
}
