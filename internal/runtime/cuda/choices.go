//go:build linux && cgo

package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// choices are one GPU's ways of computing convolutions and Gemms, chosen
// at Load by timing them (conv.go, gemm.go) and kept by geometry, so that
// a geometry seen before costs no timing. With Config.ChoicesFile they
// outlive the process: a worker restarted on the same GPU and libraries
// loads its models with the choices of its predecessor, in a fraction of
// the time (timing the ways is most of a Load: ResNet-50 loaded in 6.7 s
// on an H200, ResNet-152 after it, all of whose geometries ResNet-50
// has, in 2.4 s), and runs the same kernels, where timing again could
// pick another of two close ways and shift an exec time. The original
// had this by construction: its models were compiled once, ahead of time,
// for one GPU.
type choices struct {
	conv map[string]convChoice
	gemm map[string]gemmMode
	// added is whether a choice was made since the last save; timed and
	// reused count the steps that timed their ways and that reused a
	// choice (the verbose Load line).
	added         bool
	timed, reused int
}

func newChoices() choices {
	return choices{conv: map[string]convChoice{}, gemm: map[string]gemmMode{}}
}

func (c *choices) setConv(key string, v convChoice) { c.conv[key], c.added = v, true }
func (c *choices) setGemm(key string, v gemmMode)   { c.gemm[key], c.added = v, true }

// EnvChoices names the environment variable that sets Config.ChoicesFile
// in workers.
const EnvChoices = "CLOCKWORK_CUDA_CHOICES"

// ChoicesFromEnv reads EnvChoices.
func ChoicesFromEnv() string { return os.Getenv(EnvChoices) }

// choicesFormat is the file's format, and the version of the ways choose
// tries: a file of another is not read (and is replaced).
const choicesFormat = "clockwork cuda choices 1"

// fingerprint is what a GPU's choices depend on besides the geometry: a
// file's choices are used only on a GPU with the same one. Identical GPUs
// of a machine share theirs.
type fingerprint struct {
	GPU    string `json:"gpu"`
	CC     string `json:"cc"`
	SMs    int    `json:"sms"`
	Driver string `json:"driver"`
	CUDNN  int    `json:"cudnn"`
	CUBLAS int    `json:"cublas"`
	// Kernels is a hash of the runtime's own kernels (kernelSource).
	Kernels string `json:"kernels"`
}

func (f fingerprint) String() string {
	return fmt.Sprintf("%s, cc %s, %d SMs, driver %s, cuDNN %d, cuBLAS %d, kernels %s",
		f.GPU, f.CC, f.SMs, f.Driver, f.CUDNN, f.CUBLAS, f.Kernels)
}

// kernelsHash identifies kernelSource.
func kernelsHash() string {
	h := sha256.Sum256([]byte(kernelSource))
	return hex.EncodeToString(h[:6])
}

// choicesDoc is the file: a section per fingerprint.
type choicesDoc struct {
	Format string        `json:"format"`
	GPUs   []*gpuChoices `json:"gpus"`
}

type gpuChoices struct {
	fingerprint
	Conv map[string]savedConv `json:"conv"`
	Gemm map[string]string    `json:"gemm"`
}

// savedConv is a convChoice as the file has it. The workspace size is
// not kept: cuDNN is asked again (convStep.reuse).
type savedConv struct {
	Algo      string   `json:"algo,omitempty"`
	Mode      string   `json:"mode"`
	Ms        float32  `json:"ms"`
	Short     []string `json:"short,omitempty"`
	ShortNeed uint64   `json:"short_need,omitempty"`
	Room      uint64   `json:"room"`
}

// readChoices reads the file at path; a missing file is an empty one. An
// error is a file that is not a choices file of this format (ours or
// not).
func readChoices(path string) (*choicesDoc, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &choicesDoc{Format: choicesFormat}, nil
	}
	if err != nil {
		return nil, err
	}
	var doc choicesDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a choices file: %w", err)
	}
	if doc.Format != choicesFormat {
		return &doc, fmt.Errorf("format %q, not %q", doc.Format, choicesFormat)
	}
	return &doc, nil
}

// ours is whether doc, which readChoices refused, is a choices file of
// another format, which a save may replace.
func ours(doc *choicesDoc) bool {
	return doc != nil && strings.HasPrefix(doc.Format, "clockwork cuda choices")
}

// section is the doc's section for f, made if there is none.
func (doc *choicesDoc) section(f fingerprint) *gpuChoices {
	for _, g := range doc.GPUs {
		if g != nil && g.fingerprint == f {
			return g
		}
	}
	g := &gpuChoices{fingerprint: f}
	doc.GPUs = append(doc.GPUs, g)
	return g
}

// seed adds g's choices to c and returns how many it took, and how many
// it could not read (a mode or algorithm this build does not know). The
// convolution choices are checked against each op when reused.
func (c *choices) seed(g *gpuChoices) (took, bad int) {
	for k, v := range g.Conv {
		mode := slices.Index(convModeNames[:], v.Mode)
		algo, ok := cu.ParseConvFwdAlgo(v.Algo)
		if v.Algo == "" {
			algo, ok = 0, mode == int(convDepthwise) || mode == int(convGemm) // no cuDNN algorithm
		}
		ch := convChoice{algo: algo, mode: convMode(mode), ms: v.Ms, shortNeed: v.ShortNeed, room: v.Room}
		for _, s := range v.Short {
			a, known := cu.ParseConvFwdAlgo(s)
			ok = ok && known
			ch.short = append(ch.short, a)
		}
		if mode < 0 || !ok {
			bad++
			continue
		}
		c.conv[k] = ch
		took++
	}
	for k, v := range g.Gemm {
		mode := slices.Index(gemmModeNames[:], v)
		if mode < 0 {
			bad++
			continue
		}
		c.gemm[k] = gemmMode(mode)
		took++
	}
	return took, bad
}

// put writes c's choices into g, over what g had.
func (c *choices) put(g *gpuChoices) {
	if g.Conv == nil {
		g.Conv = map[string]savedConv{}
	}
	if g.Gemm == nil {
		g.Gemm = map[string]string{}
	}
	for k, v := range c.conv {
		s := savedConv{Mode: v.mode.String(), Ms: v.ms, ShortNeed: v.shortNeed, Room: v.room}
		if v.library() {
			s.Algo = v.algo.String()
		}
		for _, a := range v.short {
			s.Short = append(s.Short, a.String())
		}
		g.Conv[k] = s
	}
	for k, v := range c.gemm {
		g.Gemm[k] = v.String()
	}
}

// writeChoices replaces the file at path with doc, through a temporary
// file beside it, so that a reader never sees half of it.
func writeChoices(path string, doc *choicesDoc) error {
	b, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err = errors.Join(err, f.Close()); err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// loadChoices seeds each GPU's choices from Config.ChoicesFile and says
// so on the log.
func (r *Runtime) loadChoices() {
	path := r.cfg.ChoicesFile
	if path == "" {
		return
	}
	doc, err := readChoices(path)
	if err != nil {
		if ours(doc) {
			fmt.Fprintf(r.log, "cuda: choices file %s not used (%v): choices are timed at Load and replace it\n", path, err)
		} else {
			fmt.Fprintf(r.log, "cuda: choices file %s not used (%v): choices are timed at Load and not saved\n", path, err)
			r.choicesOff = true
		}
		return
	}
	for _, d := range r.devices {
		took, bad := d.choices.seed(doc.section(d.fp))
		var note string
		if bad > 0 {
			note = fmt.Sprintf(" (%d more not understood, left out)", bad)
		}
		if took == 0 {
			fmt.Fprintf(r.log, "cuda: GPU %d: no choices in %s for %s%s; those timed at Load are added\n", d.id, path, d.fp, note)
			continue
		}
		fmt.Fprintf(r.log, "cuda: GPU %d: %d choices of ways to compute convolutions and Gemms from %s%s\n", d.id, took, path, note)
	}
}

// saveChoices merges d's choices into Config.ChoicesFile if d made any
// since the last save; it runs under d.loadMu. A failure is said on the
// log once, and costs only the timing of the next process.
func (r *Runtime) saveChoices(d *device) {
	if r.cfg.ChoicesFile == "" || !d.choices.added {
		return
	}
	r.choicesMu.Lock()
	defer r.choicesMu.Unlock()
	if r.choicesOff {
		return
	}
	doc, err := readChoices(r.cfg.ChoicesFile)
	if err != nil && !ours(doc) { // left as it is
		fmt.Fprintf(r.log, "cuda: choices not saved to %s: %v\n", r.cfg.ChoicesFile, err)
		r.choicesOff = true
		return
	}
	if err != nil {
		doc = &choicesDoc{Format: choicesFormat} // replaces one of another format
	}
	d.choices.put(doc.section(d.fp))
	if err := writeChoices(r.cfg.ChoicesFile, doc); err != nil {
		fmt.Fprintf(r.log, "cuda: choices not saved to %s: %v\n", r.cfg.ChoicesFile, err)
		r.choicesOff = true
		return
	}
	d.choices.added = false
}
