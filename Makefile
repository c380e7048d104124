# Clockwork in Go. `make` builds every binary into build/ and writes the
# simulated model zoo; `make test` runs the test suite; `make demo` runs a
# local cluster (worker_dummy + controller + client) for about 30 seconds.

GO      ?= go
BUILD   := build
FUZZTIME ?= 5s

.PHONY: all binaries zoo models test vet fuzz cross asan demo bench fig5 sim-fig5 devcarry proto clean ort

all: binaries zoo

binaries:
	$(GO) build -o $(BUILD)/ ./cmd/...

zoo: binaries
	$(BUILD)/genzoo -out $(BUILD)/zoo

# ONNX models with deterministic random weights for the real worker: all
# 35 (5.5 GB; `build/genmodels -list` lists them), or MODELS=a,b,...
models: binaries
	$(BUILD)/genmodels -out $(BUILD)/models $(if $(MODELS),-only $(MODELS))

vet:
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# TestOnnxruntime runs where `make ort` installed onnxruntime-node.
ORT_DIR := $(CURDIR)/$(BUILD)/ort
export CLOCKWORK_ORT_DIR ?= $(if $(wildcard $(ORT_DIR)/node_modules/onnxruntime-node),$(ORT_DIR))

# The fuzz targets and the cross-builds run side by side (-O keeps each
# one's output together): neither keeps both cores busy alone.
test: vet
	$(GO) test -race -timeout 30m ./...
	$(MAKE) -j2 -O fuzz cross asan

# The results tests pin to the bit, built with clang and GCC 11 and for
# arm64 under qemu-user where those are installed (scripts/cross-check.sh).
cross:
	@GO=$(GO) scripts/cross-check.sh

# The C kernels' tests built with AddressSanitizer: C reads and writes
# without bounds checks (each Go wrapper checks its spans; this checks that
# the kernels stay inside them, stack buffers included). -short: fewer
# random geometries in the slowest two.
asan:
	$(GO) test -asan -short -count=1 -run 'ISAs|Epilogue|Geometries|Layouts|Operators|ConvParts|Winograd' ./internal/engine/cpuexec

# onnxruntime's npm package, its CPU library alone (its install script
# would download a GPU build), for TestOnnxruntime: node and npm needed.
ort:
	timeout 600 npm install --silent --no-audit --no-fund --ignore-scripts --prefix $(ORT_DIR) onnxruntime-node@1.20.1

# Every fuzz target, briefly (scripts/fuzz.sh).
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

demo: all
	scripts/demo.sh

# Benchmarks of the hot paths (figures, not pass/fail).
bench:
	$(GO) test -run XXX -bench . -benchtime 2s ./...

# Figure 5 of the paper on the real binaries (~7 min: 12 runs of ~32 s) and
# in the virtual-time simulator (~10 s).
fig5: all
	$(BUILD)/clockwork-bench fig5 -bin $(BUILD) -zoo $(BUILD)/zoo

sim-fig5: binaries
	$(BUILD)/clockwork-bench sim fig5

# What scripts/gpu-check.sh runs on a GPU host, which has no Go: built
# here, stripped, into build/devcarry/ and packed into the git-ignored
# .devcarry/bin.tar.gz, which is carried there (the device tool carries at
# most 64 MiB with the tree; the binaries alone had grown to 61 MiB, the
# archive is about 25 MB) and unpacked by gpu-check.sh.
devcarry:
	rm -rf $(BUILD)/devcarry .devcarry
	CGO_ENABLED=1 $(GO) build -ldflags=-s\ -w -o $(BUILD)/devcarry/ ./cmd/worker ./cmd/genmodels ./cmd/gpucheck ./cmd/controller ./cmd/client ./cmd/gpuprobe ./cmd/check_model
	CGO_ENABLED=1 $(GO) test -c -ldflags=-s\ -w -o $(BUILD)/devcarry/runtime-cuda.test ./internal/runtime/cuda
	CGO_ENABLED=1 $(GO) test -c -ldflags=-s\ -w -o $(BUILD)/devcarry/cuda.test ./internal/cuda
	CGO_ENABLED=1 $(GO) test -c -ldflags=-s\ -w -o $(BUILD)/devcarry/worker.test ./internal/worker
	mkdir -p .devcarry
	tar -C $(BUILD)/devcarry -czf .devcarry/bin.tar.gz .
	@du -h .devcarry/bin.tar.gz

proto:
	protoc --go_out=. --go_opt=module=github.com/clockwork-go/clockwork api/clockwork.proto internal/onnx/onnx.proto

clean:
	rm -rf $(BUILD)
