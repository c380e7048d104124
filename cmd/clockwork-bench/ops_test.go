package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/modelgen"
	"google.golang.org/protobuf/proto"
)

// TestOps profiles tinycnn by name and from its ONNX file: a header, the
// three slowest ops, the rest summed, and the kinds' table.
func TestOps(t *testing.T) {
	mp, err := modelgen.Generate("tinycnn")
	if err != nil {
		t.Fatal(err)
	}
	data, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tinycnn.onnx")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"tinycnn", file, strings.TrimSuffix(file, ".onnx")} {
		var out, errs bytes.Buffer
		args := []string{"ops", "-rounds", "3", "-top", "3", "-batch", "2", "-threads", "2", model}
		if code := run(context.Background(), args, &out, &errs); code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", model, code, out.String(), errs.String())
		}
		lines := strings.Split(out.String(), "\n")
		if want := model + " at batch size 2 on 2 threads ("; !strings.HasPrefix(lines[0], want) {
			t.Errorf("%s: first line %q, want %q…", model, lines[0], want)
		}
		var rows, convs int
		for _, l := range lines {
			if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| # ") && !strings.HasPrefix(l, "| kind ") {
				rows++
			}
			if strings.HasPrefix(l, "| Conv | ") {
				convs++
			}
		}
		if !strings.Contains(out.String(), " more ops: ") || convs != 1 || rows < 3+2 {
			t.Errorf("%s: %d rows, %d kinds' rows for Conv:\n%s", model, rows, convs, out.String())
		}
	}
}
