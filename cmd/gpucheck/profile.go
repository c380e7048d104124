package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
)

// torchProfile holds PyTorch's CUDA-graph figures for the model zoo on one
// GPU: the repository's H200 profile
// (internal/model/profiles/zoo_profile_h200.json), or one that
// scripts/torch-profile.py measured on the GPU being checked, in the same
// format.
type torchProfile struct {
	path, device, torch string
	exec                map[string]map[int]torchFigures // by model and batch size
}

// torchFigures are exec p50 and p99.9 in ms.
type torchFigures struct{ p50, p999 float64 }

func readProfile(path string) (*torchProfile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Device string `json:"device"`
		Torch  string `json:"torch"`
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
	p := &torchProfile{path: path, device: f.Device, torch: f.Torch, exec: map[string]map[int]torchFigures{}}
	for _, m := range f.Models {
		p.exec[m.Model] = map[int]torchFigures{}
		for k, e := range m.Exec {
			if b, err := strconv.Atoi(k); err == nil {
				p.exec[m.Model][b] = torchFigures{e.P50, e.P999}
			}
		}
	}
	return p, nil
}

// gpuName is the first GPU's name in a CUDA worker's runtime name, as
// "cuda (1 × NVIDIA H200; CUDA driver 13.0, …)", or "".
func gpuName(runtime string) string {
	_, rest, ok := strings.Cut(runtime, " × ")
	if !ok {
		return ""
	}
	devices, _, ok := strings.Cut(rest, ";") // the GPUs' part ends the list at ";"
	if !ok {
		devices, ok = strings.CutSuffix(rest, ")") // or at the closing parenthesis
	}
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(devices, ", ")
	return first
}

// otherGPU says why the profile's figures cannot judge the GPU named gpu
// ("" when they can, or when either name is unknown).
func (p *torchProfile) otherGPU(gpu string) string {
	if gpu == "" || p.device == "" || gpu == p.device {
		return ""
	}
	return "the PyTorch figures are " + p.device + "'s; this GPU is " + gpu
}
