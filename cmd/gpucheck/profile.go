package main

import (
	"encoding/json"
	"os"
	"strconv"
)

// torchProfile holds the PyTorch CUDA-graph figures of the repository's
// H200 profile (internal/model/profiles/zoo_profile_h200.json): exec p50
// and p99.9 in ms by model and batch size.
type torchProfile map[string]map[int]struct{ p50, p999 float64 }

func readProfile(path string) (torchProfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Models []struct {
			Model string `json:"model"`
			Exec  map[string]struct {
				P50  float64 `json:"p50"`
				P999 float64 `json:"p999"`
			} `json:"exec"`
		} `json:"models"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	p := torchProfile{}
	for _, m := range f.Models {
		p[m.Model] = map[int]struct{ p50, p999 float64 }{}
		for k, e := range m.Exec {
			if b, err := strconv.Atoi(k); err == nil {
				p[m.Model][b] = struct{ p50, p999 float64 }{e.P50, e.P999}
			}
		}
	}
	return p, nil
}
