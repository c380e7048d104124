package libconfig

import (
	"errors"
	"testing"
)

func TestParseWorkerConfig(t *testing.T) {
	src := `WorkerConfig:
{
	memory_settings:
	{
		weights_cache_size = 23085449216L;
		weights_cache_page_size = 16777216L; // 16 MiB
	};
	telemetry_settings: { enable_task_telemetry = false; };
	log_dir: { telemetry_log_dir = "./"; };
	/* multi
	   line */
	allow_zero_size_inputs = true;
	ratio = 0.5;
	hex = 0x10;
	list = [1, 2, 3];
};`
	g, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if s := g.Lookup("WorkerConfig.memory_settings.weights_cache_size"); s == nil || s.Kind != KindInt || s.Int != 23085449216 {
		t.Fatalf("weights_cache_size = %+v", s)
	}
	if s := g.Lookup("WorkerConfig.telemetry_settings.enable_task_telemetry"); s == nil || s.Kind != KindBool || s.Bool {
		t.Fatalf("enable_task_telemetry = %+v", s)
	}
	if s := g.Lookup("WorkerConfig.log_dir.telemetry_log_dir"); s == nil || s.Str != "./" {
		t.Fatalf("telemetry_log_dir = %+v", s)
	}
	if s := g.Lookup("WorkerConfig.allow_zero_size_inputs"); s == nil || !s.Bool || s.Line != 12 {
		t.Fatalf("allow_zero_size_inputs = %+v", s)
	}
	if s := g.Lookup("WorkerConfig.ratio"); s == nil || s.Kind != KindFloat || s.Float != 0.5 {
		t.Fatalf("ratio = %+v", s)
	}
	if s := g.Lookup("WorkerConfig.hex"); s == nil || s.Int != 16 {
		t.Fatalf("hex = %+v", s)
	}
	if s := g.Lookup("WorkerConfig.list"); s == nil || len(s.Items) != 3 || s.Items[2].Int != 3 {
		t.Fatalf("list = %+v", s)
	}
	if g.Lookup("WorkerConfig.nope") != nil || g.Lookup("WorkerConfig.ratio.x") != nil {
		t.Fatal("lookup of missing path succeeded")
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"a = ;", "a = 1; a = 2;", "a = \"x", "g: { a = 1;", "}", "a 1;", "a = 1x;",
		"/* open", "a = 99999999999999999999;", "= 3;", "a = [1, 2",
	} {
		_, err := Parse(src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a SyntaxError", src, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("weights = 10000000L; b1 = 1000000L;")
	f.Add("G: { a = \"s\" \"t\"; b = [1, (2, 3)]; };")
	f.Fuzz(func(t *testing.T, src string) { _, _ = Parse(src) })
}
