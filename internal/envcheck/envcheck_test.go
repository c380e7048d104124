package envcheck

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// fake is a System that passes every check unless told otherwise.
type fake struct {
	env    map[string]string
	limits map[int]uint64
	maps   string
	mapErr error
	gpus   []GPU
	gpuErr error
}

func (f fake) system() System {
	return System{
		Getenv: func(k string) string { return f.env[k] },
		Rlimit: func(r int) (uint64, error) {
			v, ok := f.limits[r]
			if !ok {
				return 0, errors.New("no such limit")
			}
			return v, nil
		},
		ReadFile: func(path string) ([]byte, error) {
			if path != "/proc/sys/vm/max_map_count" {
				return nil, os.ErrNotExist
			}
			return []byte(f.maps), f.mapErr
		},
		GPUs: func() ([]GPU, error) { return f.gpus, f.gpuErr },
	}
}

func good() fake {
	on := true
	return fake{
		env:    map[string]string{"CUDA_CACHE_DISABLE": "1"},
		limits: map[int]uint64{RlimitNofile: 1 << 20, RlimitMemlock: Unlimited, RlimitRtprio: Unlimited},
		maps:   "10000000\n",
		gpus: []GPU{{Index: 0, Name: "NVIDIA H100", Persistence: &on, ComputeMode: "Exclusive_Process",
			SMClock: 1980, MaxSMClock: 1980, PCIeWidth: 16, CC: "9.0", CPUs: []int{0, 1, 2, 3, 8}}},
	}
}

func find(items []Item, prefix string) (Item, bool) {
	for _, it := range items {
		if strings.HasPrefix(it.Text, prefix) {
			return it, true
		}
	}
	return Item{}, false
}

func TestCheck(t *testing.T) {
	off := false
	for _, tc := range []struct {
		name   string
		change func(*fake)
		prefix string // of the item to look at
		level  Level
		text   string // the item's text contains it
		passed bool
	}{
		{"all good", func(*fake) {}, "CUDA_CACHE_DISABLE=1", Pass, "", true},
		{"cache unset", func(f *fake) { delete(f.env, "CUDA_CACHE_DISABLE") }, "CUDA_CACHE_DISABLE", Fail, "not set, want 1", false},
		{"cache 0", func(f *fake) { f.env["CUDA_CACHE_DISABLE"] = "0" }, "CUDA_CACHE_DISABLE", Fail, "=0, want 1", false},
		{"ptx jit", func(f *fake) { f.env["CUDA_FORCE_PTX_JIT"] = "1" }, "CUDA_FORCE_PTX_JIT", Fail, "=1", false},
		{"ptx jit 0", func(f *fake) { f.env["CUDA_FORCE_PTX_JIT"] = "0" }, "CUDA_FORCE_PTX_JIT", Pass, "not 1", true},
		{"nofile low", func(f *fake) { f.limits[RlimitNofile] = 1024 }, "RLIMIT_NOFILE", Fail, "is 1024, want ≥ 65535", false},
		{"nofile exact", func(f *fake) { f.limits[RlimitNofile] = 65535 }, "RLIMIT_NOFILE", Pass, "is 65535", true},
		{"memlock", func(f *fake) { f.limits[RlimitMemlock] = 8 << 20 }, "RLIMIT_MEMLOCK", Fail, "is 8388608, want unlimited", false},
		{"rtprio", func(f *fake) { f.limits[RlimitRtprio] = 99 }, "RLIMIT_RTPRIO", Fail, "is 99, want unlimited", false},
		{"rtprio unreadable", func(f *fake) { delete(f.limits, RlimitRtprio) }, "RLIMIT_RTPRIO", Fail, "no such limit", false},
		{"maps low", func(f *fake) { f.maps = "65530\n" }, "vm.max_map_count", Fail, "is 65530, want ≥ 10000000", false},
		{"maps unreadable", func(f *fake) { f.mapErr = os.ErrPermission }, "vm.max_map_count", Fail, "unreadable", false},
		{"maps garbage", func(f *fake) { f.maps = "lots" }, "vm.max_map_count", Fail, `"lots"`, false},
		{"no GPU", func(f *fake) { f.gpus, f.gpuErr = nil, errors.New("no NVIDIA driver") }, "Found 0 GPUs", Info, "no NVIDIA driver", true},
		{"persistence off", func(f *fake) { f.gpus[0].Persistence = &off }, "GPU 0 persistence", Advise, "disabled", true},
		{"default compute mode", func(f *fake) { f.gpus[0].ComputeMode = "Default" }, "GPU 0 compute mode", Advise, "Default, want Exclusive_Process", true},
		{"gpu dump", func(*fake) {}, "GPU 0 NVIDIA H100", Info, "SM clock 1980 MHz (max 1980, applications ?), PCIe x16, compute capability 9.0", true},
		{"config unset", func(*fake) {}, "CLOCKWORK_CONFIG_FILE", Info, "not set", true},
		{"config set", func(f *fake) { f.env["CLOCKWORK_CONFIG_FILE"] = "/etc/cw.cfg" }, "CLOCKWORK_CONFIG_FILE", Info, "=/etc/cw.cfg", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good()
			tc.change(&f)
			items := Check(f.system())
			it, ok := find(items, tc.prefix)
			if !ok {
				t.Fatalf("no item starts with %q in %+v", tc.prefix, items)
			}
			if it.Level != tc.level || !strings.Contains(it.Text, tc.text) {
				t.Errorf("item = %+v, want level %d containing %q", it, tc.level, tc.text)
			}
			if (it.Level == Fail || it.Level == Advise) && it.Fix == "" {
				t.Errorf("item %q has no fix", it.Text)
			}
			if Passed(items) != tc.passed {
				t.Errorf("Passed = %v, want %v", !tc.passed, tc.passed)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	f := good()
	f.limits[RlimitNofile] = 1024
	off := false
	f.gpus[0].Persistence = &off
	var b strings.Builder
	if err := Write(&b, Check(f.system())); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"✔ CUDA_CACHE_DISABLE=1\n",
		"✘ RLIMIT_NOFILE (open files) is 1024, want ≥ 65535\n    fix: ulimit -n 65535",
		"✘ GPU 0 persistence mode disabled (advisory: does not fail the check)\n    fix: sudo nvidia-smi -i 0 -pm 1\n",
		"• Found 1 GPUs\n",
		"profile check failed: 1 item(s) to fix\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	Write(&b, Check(good().system()))
	if !strings.HasSuffix(b.String(), "profile check passed\n") {
		t.Errorf("output of a good host:\n%s", b.String())
	}
}

func TestStatus(t *testing.T) {
	var b strings.Builder
	Status(&b, good().system())
	if want := "Found 1 GPUs\nGPU 0 NVIDIA H100: compute capability 9.0, CPU affinity 0-3,8\n"; b.String() != want {
		t.Errorf("status = %q, want %q", b.String(), want)
	}
	f := good()
	f.gpus, f.gpuErr = nil, errors.New("no NVIDIA driver")
	b.Reset()
	Status(&b, f.system())
	if b.String() != "no GPUs (no NVIDIA driver)\n" {
		t.Errorf("status without GPUs = %q", b.String())
	}
}

// The real host's checks run without a GPU and without panicking.
func TestHost(t *testing.T) {
	items := Check(Host())
	if len(items) < 8 {
		t.Fatalf("only %d items", len(items))
	}
	var b strings.Builder
	Write(&b, items)
	t.Logf("\n%s", b.String())
}
