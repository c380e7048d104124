package console

import "testing"

func TestSafe(t *testing.T) {
	for in, want := range map[string]string{
		"/models/resnet50_v2/model":       "/models/resnet50_v2/model",
		"/m/ü nicode/model":               "/m/ü nicode/model",
		"/x\nLost connection to worker 0": `"/x\nLost connection to worker 0"`,
		"/x\x1b[2K\rfake":                 `"/x\x1b[2K\rfake"`,
		"":                                "",
	} {
		if got := Safe(in); got != want {
			t.Errorf("Safe(%q) = %s, want %s", in, got, want)
		}
	}
}
