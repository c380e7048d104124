// Command genmodels writes the generated model zoo: ONNX models with
// deterministic random weights, one directory per model holding
// model.onnx, so that <out>/<name>/model is a model path for workers and
// check_model. -list prints each model's input and size instead.
//
//	genmodels -out build/models [-only resnet18,mlp]
//	genmodels -list
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

func main() {
	out := flag.String("out", "build/models", "directory to write <name>/model.onnx into")
	only := flag.String("only", "", "comma-separated models to generate (default all: "+strings.Join(modelgen.Names(), ",")+")")
	list := flag.Bool("list", false, "print each model's input shape, float32 values (parameters and batch-norm statistics) and their size, and write nothing")
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
	if *list {
		if err := printList(os.Stdout, names); err != nil {
			fmt.Fprintf(os.Stderr, "genmodels: %v\n", err)
			os.Exit(1)
		}
		return
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

// printList writes a table of the models' inputs and sizes, from their
// skeletons (no weights are drawn).
func printList(w io.Writer, names []string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tinput\tfloat32 values\tweights MB\t")
	var total int64 // bytes
	for _, n := range names {
		m, err := modelgen.Skeleton(n)
		if err != nil {
			return err
		}
		var input []string
		for _, d := range m.Graph.Input[0].GetType().GetTensorType().GetShape().GetDim() {
			if p := d.GetDimParam(); p != "" {
				input = append(input, p)
			} else {
				input = append(input, fmt.Sprint(d.GetDimValue()))
			}
		}
		var values int64
		for _, t := range m.Graph.Initializer {
			if t.DataType != int32(onnx.TensorProto_FLOAT) {
				continue
			}
			elems := int64(1)
			for _, d := range t.Dims {
				elems *= d
			}
			values += elems
		}
		total += 4 * values
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t\n", n, strings.Join(input, "×"), values, float64(4*values)/1e6)
	}
	fmt.Fprintf(tw, "total\t\t\t%.1f\t\n", float64(total)/1e6)
	return tw.Flush()
}
