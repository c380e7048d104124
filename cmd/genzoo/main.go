// Command genzoo writes the simulated model zoo that worker_dummy serves:
// for each of the 32 models measured on an H200 and the original's three
// V100 ResNets, a directory <out>/<name>/ with model.measurements and
// model.spec.json.
//
//	genzoo [-out build/zoo]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/clockwork-go/clockwork/internal/model"
)

func main() {
	out := flag.String("out", "build/zoo", "directory to write the zoo into")
	flag.Parse()
	n, err := model.WriteSimulatedZoo(*out)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genzoo: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("Wrote %d simulated models to %s\n", n, *out)
}
