package controllercmd

import (
	"bytes"
	"strings"
	"testing"
)

// TestOtherTypes: the original's controller types that are not
// implemented here are refused before anything starts, saying what they
// were; INFER4, which the original's documentation runs, points to INFER5.
func TestOtherTypes(t *testing.T) {
	for typ, want := range map[string]string{
		"INFER4": "INFER4 is not implemented here: it is the original's earlier scheduler, which its documentation still names; INFER5 is its successor",
		"smart":  "SMART is not implemented here: it is a scheduler the fork added",
		"DIRECT": "DIRECT is not implemented here: it is one of the original's test controllers",
		"STRESS": "STRESS is not implemented here: it is one of the original's test controllers",
		"NOPE":   "",
	} {
		var stdout, stderr bytes.Buffer
		if rc := Main([]string{typ, "localhost:1"}, &stdout, &stderr); rc != 1 {
			t.Errorf("%s: exit status %d", typ, rc)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: started: %q", typ, stdout.String())
		}
		got := stderr.String()
		if !strings.HasPrefix(got, "Invalid controller type "+strings.ToUpper(typ)+"\n") || !strings.Contains(got, "Usage: controller") {
			t.Errorf("%s: %q", typ, got)
		}
		if want != "" && !strings.Contains(got, want) {
			t.Errorf("%s: %q lacks %q", typ, got, want)
		}
		if want == "" && strings.Contains(got, "not implemented here") {
			t.Errorf("%s: %q", typ, got)
		}
	}
}
