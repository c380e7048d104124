package engine_test

import (
	"fmt"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// span is a byte range of the IO region or the workspace.
type span struct {
	region     engine.Region
	start, end int64
}

func spanOf(t engine.TensorRef) span { return span{t.Region, t.Offset, t.Offset + t.Bytes()} }

func (s span) overlaps(o span) bool {
	return s.region == o.region && s.start < o.end && o.start < s.end
}

func (s span) within(o span) bool {
	return s.region == o.region && o.start <= s.start && s.end <= o.end
}

// checkPlan verifies that a plan's memory is sound: every tensor inside its
// region, inputs never written, every read of the IO outputs or the
// workspace served by an earlier write, and no write clobbering a tensor
// that is read later.
func checkPlan(p *engine.Plan, pages []int64) error {
	var inputs span
	if len(p.Inputs) > 0 {
		inputs = span{engine.IO, 0, p.InputBytes}
	}
	writes := make([]span, len(p.Ops))
	lastRead := make([]int, len(p.Ops))
	for i, op := range p.Ops {
		w := op.Writes()
		writes[i] = spanOf(w)
		lastRead[i] = i
		refs := append(op.Reads(), w)
		for _, r := range refs {
			switch r.Region {
			case engine.IO:
				if r.Offset < 0 || r.Offset+r.Bytes() > p.IOBytes {
					return fmt.Errorf("op %d %s: %v outside the IO region (%d bytes)", i, op.Source(), r, p.IOBytes)
				}
			case engine.Workspace:
				if r.Offset < 0 || r.Offset+r.Bytes() > p.WorkspaceBytes {
					return fmt.Errorf("op %d %s: %v outside the workspace (%d bytes)", i, op.Source(), r, p.WorkspaceBytes)
				}
			case engine.Weights:
				if r.Page >= len(pages) || r.Offset+r.Bytes() > pages[r.Page] {
					return fmt.Errorf("op %d %s: %v outside the weights", i, op.Source(), r)
				}
			default:
				return fmt.Errorf("op %d %s: %v in no region", i, op.Source(), r)
			}
		}
		if w.Region == engine.Weights || writes[i].overlaps(inputs) {
			return fmt.Errorf("op %d %s writes %v", i, op.Source(), w)
		}
		for _, r := range op.Reads() {
			rs := spanOf(r)
			if rs.overlaps(writes[i]) {
				return fmt.Errorf("op %d %s reads %v, which overlaps its output %v", i, op.Source(), r, w)
			}
			if r.Region == engine.Weights || rs.within(inputs) {
				continue
			}
			// The value read is the latest write covering it.
			j := i - 1
			for ; j >= 0 && !writes[j].overlaps(rs); j-- {
			}
			if j < 0 || !rs.within(writes[j]) {
				return fmt.Errorf("op %d %s reads %v, which no single earlier op wrote", i, op.Source(), r)
			}
			lastRead[j] = i
		}
	}
	for j := range p.Ops {
		for i := j + 1; i < lastRead[j]; i++ {
			if writes[i].overlaps(writes[j]) {
				return fmt.Errorf("op %d %s overwrites the output of op %d %s before op %d reads it",
					i, p.Ops[i].Source(), j, p.Ops[j].Source(), lastRead[j])
			}
		}
	}
	for _, o := range p.Outputs {
		found := false
		for i := len(p.Ops) - 1; i >= 0 && !found; i-- {
			found = spanOf(o).within(writes[i])
		}
		if !found {
			return fmt.Errorf("output %v is never written", o)
		}
	}
	return nil
}

func pageSizes(m *engine.Model) []int64 {
	out := make([]int64, m.Weights.NumPages())
	for i, p := range m.Weights.Pages {
		out[i] = int64(len(p))
	}
	return out
}

func TestPlanMemory(t *testing.T) {
	models := []string{"mlp", "tinycnn"}
	if !testing.Short() {
		models = append(models, "resnet18", "mobilenet_v2", "densenet121")
	}
	for _, name := range models {
		t.Run(name, func(t *testing.T) {
			m := mustImport(t, zoo(t, name), engine.Options{})
			var prev *engine.Plan
			for _, b := range []int{1, 2, 3, 16} {
				p := mustPlan(t, m, b)
				if err := checkPlan(p, pageSizes(m)); err != nil {
					t.Fatalf("b%d: %v", b, err)
				}
				var sum int64
				for _, op := range p.Ops {
					if w := op.Writes(); w.Region == engine.Workspace {
						sum += w.Bytes()
					}
				}
				if p.WorkspaceBytes > sum+int64(256*len(p.Ops)) {
					t.Errorf("b%d: workspace %d larger than all intermediates (%d)", b, p.WorkspaceBytes, sum)
				}
				if prev != nil && p.WorkspaceBytes < prev.WorkspaceBytes {
					t.Errorf("b%d: workspace %d smaller than at b%d (%d)", b, p.WorkspaceBytes, prev.Batch, prev.WorkspaceBytes)
				}
				prev = p
			}
		})
	}
}

// TestCheckPlanCatchesOverlap makes sure the checker above rejects a plan
// whose workspace reuse is wrong.
func TestCheckPlanCatchesOverlap(t *testing.T) {
	m := mustImport(t, zoo(t, "tinycnn"), engine.Options{})
	p := mustPlan(t, m, 1)
	for i, op := range p.Ops {
		c, ok := op.(*engine.Conv)
		if !ok || c.X.Region != engine.Workspace {
			continue
		}
		// Make a later op write where this conv's input lives... by moving
		// the conv's own output there.
		bad := *c
		bad.Y.Region, bad.Y.Offset = engine.Workspace, c.X.Offset
		ops := append([]engine.Op{}, p.Ops...)
		ops[i] = &bad
		q := *p
		q.Ops = ops
		if err := checkPlan(&q, pageSizes(m)); err == nil {
			t.Fatalf("corrupted plan accepted")
		}
		return
	}
	t.Fatal("no conv reading the workspace in tinycnn")
}
