// Command genmodels writes the generated model zoo: ONNX models with
// deterministic random weights, one directory per model holding
// model.onnx, so that <out>/<name>/model is a model path for workers and
// check_model.
//
//	genmodels -out build/models [-only resnet18,mlp]
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/clockwork-go/clockwork/internal/modelgen"
)

func main() {
	out := flag.String("out", "build/models", "directory to write <name>/model.onnx into")
	only := flag.String("only", "", "comma-separated models to generate (default all: "+strings.Join(modelgen.Names(), ",")+")")
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	names := modelgen.Names()
	if *only != "" {
		names = strings.Split(*only, ",")
		for _, n := range names {
			if !slices.Contains(modelgen.Names(), n) {
				fmt.Fprintf(os.Stderr, "genmodels: unknown model %q (have %s)\n", n, strings.Join(modelgen.Names(), ", "))
				os.Exit(2)
			}
		}
	}
	for _, n := range names {
		path, err := modelgen.Write(*out, n)
		if err != nil {
			fmt.Fprintf(os.Stderr, "genmodels: %v\n", err)
			os.Exit(1)
		}
		fmt.Println(path + ".onnx")
	}
}
