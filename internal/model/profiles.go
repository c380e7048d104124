package model

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// The measured profiles the simulated zoo is generated from: 32 models
// measured with PyTorch CUDA graphs on an H200, and the original
// Clockwork's V100 measurements of three ResNets.
//
//go:embed profiles/zoo_profile_h200.json profiles/zoo_profile_v100.json
var profiles embed.FS

// PageSize is the default weights page size (16 MiB).
const PageSize = 16 << 20

type h200File struct {
	Device string `json:"device"`
	Models []struct {
		Model      string  `json:"model"`
		InputShape []int   `json:"input_shape"`
		InputBytes uint64  `json:"input_bytes"`
		Weights    uint64  `json:"weights_bytes"`
		Pages      int     `json:"weights_pages_16MiB"`
		XferMedian float64 `json:"xfer_ms_median"`
		Exec       map[string]struct {
			P50         float64 `json:"p50"`
			OutputBytes uint64  `json:"output_bytes"`
		} `json:"exec"`
	} `json:"models"`
}

type v100File struct {
	Device string `json:"device"`
	Models []struct {
		Model       string             `json:"model"`
		InputBytes  uint64             `json:"input_bytes"`
		OutputBytes uint64             `json:"output_bytes"`
		Weights     *uint64            `json:"weights_bytes"`
		Pages       *int               `json:"weights_pages_16MiB"`
		Xfer        float64            `json:"xfer_ms"`
		Exec        map[string]float64 `json:"exec_ms"`
		Source      string             `json:"source"`
	} `json:"models"`
}

// Simulated is one model of the simulated zoo.
type Simulated struct {
	Name         string
	Spec         Spec
	Measurements Measurements
}

func msToNs(ms float64) uint64 { return uint64(math.Round(ms * 1e6)) }

// SimulatedZoo returns the models of the embedded profiles: every H200
// model (exec = p50, weights = median transfer) and the V100 models of the
// original (resnet50_v2, resnet18_v2, resnet152_v2). Where the V100 data
// lacks a weights size it is estimated from the transfer time relative to
// resnet50_v2.
func SimulatedZoo() ([]Simulated, error) {
	var out []Simulated
	var h h200File
	if err := readProfile("profiles/zoo_profile_h200.json", &h); err != nil {
		return nil, err
	}
	for _, m := range h.Models {
		s := Simulated{Name: m.Model, Measurements: Measurements{Weights: msToNs(m.XferMedian), HasWeights: true, Exec: map[int]uint64{}}}
		s.Spec = Spec{InputSize: m.InputBytes, WeightsSize: m.Weights, WeightsPages: m.Pages, PageSize: PageSize,
			InputShape: m.InputShape, Source: h.Device + " (PyTorch CUDA graphs, p50)"}
		for k, e := range m.Exec {
			b, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("h200 profile %s: batch size %q", m.Model, k)
			}
			s.Measurements.Exec[b] = msToNs(e.P50)
			s.Spec.BatchSizes = append(s.Spec.BatchSizes, b)
			if b == 1 {
				s.Spec.OutputSize = e.OutputBytes
			}
		}
		sort.Ints(s.Spec.BatchSizes)
		out = append(out, s)
	}

	var v v100File
	if err := readProfile("profiles/zoo_profile_v100.json", &v); err != nil {
		return nil, err
	}
	var refBytes uint64
	var refXfer float64
	for _, m := range v.Models {
		if m.Weights != nil {
			refBytes, refXfer = *m.Weights, m.Xfer
			break
		}
	}
	for _, m := range v.Models {
		s := Simulated{Name: m.Model, Measurements: Measurements{Weights: msToNs(m.Xfer), HasWeights: true, Exec: map[int]uint64{}}}
		s.Spec = Spec{InputSize: m.InputBytes, OutputSize: m.OutputBytes, PageSize: PageSize,
			InputShape: []int{3, 224, 224}, Source: v.Device}
		switch {
		case m.Weights != nil && m.Pages != nil:
			s.Spec.WeightsSize, s.Spec.WeightsPages = *m.Weights, *m.Pages
		case refXfer > 0:
			s.Spec.WeightsSize = uint64(float64(refBytes) * m.Xfer / refXfer)
			s.Spec.WeightsPages = int((s.Spec.WeightsSize + PageSize - 1) / PageSize)
			s.Spec.Source += "; weights size estimated from transfer time"
		default:
			return nil, fmt.Errorf("v100 profile %s: no weights size and no reference", m.Model)
		}
		for k, ms := range m.Exec {
			b, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("v100 profile %s: batch size %q", m.Model, k)
			}
			s.Measurements.Exec[b] = msToNs(ms)
			s.Spec.BatchSizes = append(s.Spec.BatchSizes, b)
		}
		sort.Ints(s.Spec.BatchSizes)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readProfile(name string, v any) error {
	b, err := profiles.ReadFile(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// WriteSimulatedZoo writes every simulated model to dir/<name>/ and returns
// how many it wrote.
func WriteSimulatedZoo(dir string) (int, error) {
	zoo, err := SimulatedZoo()
	if err != nil {
		return 0, err
	}
	for _, m := range zoo {
		d := filepath.Join(dir, m.Name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, err
		}
		prefix := Prefix(d)
		if err := m.Spec.Write(prefix); err != nil {
			return 0, err
		}
		if err := m.Measurements.Write(prefix); err != nil {
			return 0, err
		}
	}
	return len(zoo), nil
}
