package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/modelgen"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want options
		err  string
	}{
		{args: []string{"m/model"}, want: options{path: "m/model", pageSize: 16 << 20, iterations: 100}},
		{args: []string{"-p", "4096", "m", "--iterations", "7", "--input", "in.bin"}, want: options{path: "m", pageSize: 4096, iterations: 7, input: "in.bin"}},
		{args: []string{"--page_size", "8192", "-i", "2", "m"}, want: options{path: "m", pageSize: 8192, iterations: 2}},
		{args: nil, err: "Expecting a model as input"},
		{args: []string{"a", "b"}, err: "Expecting a model as input"},
		{args: []string{"m", "-i"}, err: "needs a value"},
		{args: []string{"m", "-i", "x"}, err: "invalid value"},
		{args: []string{"m", "-p", "0"}, err: "invalid value"},
		{args: []string{"m", "--bogus"}, err: "Unknown option --bogus"},
		{args: []string{"-h"}, err: "help"},
		{args: []string{"m", "--help"}, err: "help"},
	} {
		got, err := parseArgs(tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	prefix, err := modelgen.Write(t.TempDir(), "tinycnn")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := check(&out, options{path: prefix, pageSize: 16 << 20, iterations: 2}); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`^Checking ` + regexp.QuoteMeta(prefix) + ` using random input
  input_size:  12288
  output_size: 40
  workspace:   [1-9][0-9]*
  weights size paged \(non-paged\) \[num_pages\]: 16777216 \([1-9][0-9]*\) \[1\]
  weights transfer latency: [0-9]+\.[0-9]{2} ms
  execution latency:
    b1: [0-9]+\.[0-9]{2} ms
    b2: [0-9]+\.[0-9]{2} ms
    b4: [0-9]+\.[0-9]{2} ms
    b8: [0-9]+\.[0-9]{2} ms
    b16: [0-9]+\.[0-9]{2} ms
$`)
	if !want.MatchString(out.String()) {
		t.Errorf("output:\n%s", out.String())
	}

	input := filepath.Join(t.TempDir(), "input")
	item := make([]byte, 12288)
	for i := 0; i < len(item); i += 4 {
		binary.LittleEndian.PutUint32(item[i:], math.Float32bits(float32(i%97)/50-1))
	}
	if err := os.WriteFile(input, item, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := check(&out, options{path: prefix, pageSize: 16 << 20, iterations: 1, input: input}); err != nil {
		t.Fatal(err)
	}
	top := regexp.MustCompile(`(?m)^    b1: .*\nOutput data topn:\n(output\[[0-9]\] = -?[0-9.e+-]+\n){5}    b2: `)
	if !strings.HasPrefix(out.String(), "Checking "+prefix+" using provided input "+input+"\n") || !top.MatchString(out.String()) {
		t.Errorf("output:\n%s", out.String())
	}

	if err := os.WriteFile(input, item[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := check(&out, options{path: prefix, pageSize: 16 << 20, iterations: 1, input: input}); err == nil || !strings.Contains(err.Error(), "expected 12288") {
		t.Errorf("short input: %v", err)
	}
	if err := check(&out, options{path: prefix + "x", pageSize: 16 << 20, iterations: 1}); err == nil {
		t.Error("missing model checked")
	}
}
