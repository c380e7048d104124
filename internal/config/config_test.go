package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	var log bytes.Buffer
	w, err := Load(filepath.Join(t.TempDir(), "missing.cfg"), "", &log)
	if err != nil {
		t.Fatal(err)
	}
	if w.WeightsCacheSize != 23085449216 || w.PageSize != 16777216 || w.Pages() != 1376 ||
		w.IOPoolSize != 512<<20 || w.WorkspacePoolSize != 512<<20 || w.HostIOPoolSize != 512<<20 ||
		!w.AllowZeroSizeInputs || w.TelemetryLogDir != "./" || w.EnableTaskTelemetry {
		t.Fatalf("defaults = %+v", w)
	}
	if !strings.Contains(log.String(), "Loading Clockwork worker default config from built-in defaults") {
		t.Errorf("log = %q", log.String())
	}
}

func TestRepositoryDefaultFileMatchesBuiltin(t *testing.T) {
	b, err := os.ReadFile("../../config/default.cfg")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != builtin {
		t.Fatal("config/default.cfg and internal/config/default.cfg differ; copy one onto the other")
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.cfg")
	os.WriteFile(user, []byte("WorkerConfig: { memory_settings: { weights_cache_size = 1073741824L; }; allow_zero_size_inputs = false; };"), 0o644)
	var log bytes.Buffer
	w, err := Load(filepath.Join(dir, "none"), user, &log)
	if err != nil {
		t.Fatal(err)
	}
	if w.Pages() != 64 || w.AllowZeroSizeInputs {
		t.Fatalf("overridden = %+v", w)
	}
	for _, want := range []string{
		"Overriding default config using values in " + user,
		"The default setting WorkerConfig.memory_settings.weights_cache_size was overwritten to 1073741824",
		"The default setting WorkerConfig.allow_zero_size_inputs was overwritten to false",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestBadUserFiles(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"unknown key":   "WorkerConfig: { memory_settings: { weights_cache_sizes = 1L; }; };",
		"wrong root":    "Worker: { };",
		"wrong type":    "WorkerConfig: { allow_zero_size_inputs = 3L; };",
		"negative":      "WorkerConfig: { memory_settings: { io_pool_size = -1L; }; };",
		"syntax":        "WorkerConfig: { ",
		"tiny cache":    "WorkerConfig: { memory_settings: { weights_cache_size = 5L; }; };",
		"tiny pages":    "WorkerConfig: { memory_settings: { weights_cache_page_size = 1L; }; };",
		"unknown group": "WorkerConfig: { gpu_settings: { a = 1L; }; };",
	} {
		p := filepath.Join(dir, "bad.cfg")
		os.WriteFile(p, []byte(src), 0o644)
		if _, err := Load(filepath.Join(dir, "none"), p, &bytes.Buffer{}); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
	if _, err := Load(filepath.Join(dir, "none"), filepath.Join(dir, "absent.cfg"), &bytes.Buffer{}); err == nil {
		t.Error("missing user file accepted")
	}
}
