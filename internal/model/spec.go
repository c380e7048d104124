package model

import (
	"encoding/json"
	"fmt"
	"os"
)

// Spec holds the sizes of a simulated model (model.spec.json). It stands in
// for the original's compiled model files, from which worker_dummy read the
// same numbers.
type Spec struct {
	InputSize   uint64 `json:"input_size"`  // one item, bytes
	OutputSize  uint64 `json:"output_size"` // one item, bytes
	WeightsSize uint64 `json:"weights_size"`
	// WeightsPages is the number of PageSize pages the weights occupy
	// (tensors never straddle pages, so this can exceed
	// ceil(WeightsSize/PageSize)).
	WeightsPages int    `json:"weights_pages"`
	PageSize     uint64 `json:"page_size"`
	BatchSizes   []int  `json:"batch_sizes"` // ascending
	InputShape   []int  `json:"input_shape,omitempty"`
	Source       string `json:"source,omitempty"` // where the figures come from
}

// SpecFile is the spec file of the model at prefix.
func SpecFile(prefix string) string { return prefix + ".spec.json" }

// ReadSpec reads and validates prefix.spec.json.
func ReadSpec(prefix string) (*Spec, error) {
	path := SpecFile(prefix)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

func (s *Spec) validate() error {
	if s.InputSize == 0 || s.OutputSize == 0 {
		return fmt.Errorf("input_size and output_size must be positive")
	}
	if s.PageSize == 0 || s.WeightsPages < 0 {
		return fmt.Errorf("page_size must be positive and weights_pages non-negative")
	}
	if len(s.BatchSizes) == 0 || s.BatchSizes[0] != 1 {
		return fmt.Errorf("batch_sizes must start with 1")
	}
	for i := 1; i < len(s.BatchSizes); i++ {
		if s.BatchSizes[i] <= s.BatchSizes[i-1] {
			return fmt.Errorf("batch_sizes must be ascending")
		}
	}
	return nil
}

// PagesFor returns the number of pages of size pageSize the weights need:
// the recorded count when the page size matches, otherwise an estimate that
// scales it.
func (s *Spec) PagesFor(pageSize uint64) int {
	if pageSize == s.PageSize || pageSize == 0 {
		return s.WeightsPages
	}
	paged := uint64(s.WeightsPages) * s.PageSize
	if s.WeightsSize > 0 && s.WeightsSize < paged {
		paged = s.WeightsSize
	}
	return int((paged + pageSize - 1) / pageSize)
}

// Write writes s to prefix.spec.json.
func (s *Spec) Write(prefix string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(SpecFile(prefix), append(b, '\n'), 0o644)
}
