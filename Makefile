# scimlab — the front door. `make demo` runs the main job; `make test` proves main works.
GO       ?= go
BIN      := bin/scimlab
COMMIT   := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
VERSION  := $(shell git describe --tags --always 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/scimlab/scimlab/cmd/scimlab/internal/cli.commit=$(COMMIT) -X github.com/scimlab/scimlab/cmd/scimlab/internal/cli.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME ?= 10s

.PHONY: all build demo test bench fuzz lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/scimlab

## demo: the main job on the embedded default (in-process reference server, suites, Okta and Entra simulations, reports).
demo: build
	./$(BIN) demo

## test: vet, the whole tree with the race detector (suites run against the in-process reference server), and the CLI contract.
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout=20m ./...

## bench: Go benchmarks of the hot paths, then the load command against the reference server on loopback.
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./reference-server/... ./reports/...
	./$(BIN) bench --users 10000

## fuzz: a short run of every fuzz target (FUZZTIME each).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

## lint: gofmt, go vet, staticcheck, and no focused Ginkgo specs.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@if git grep -nE '\b(FIt|FDescribe|FContext|FEntry|FWhen|FDescribeTable|FSpecify)\(|[(,] *Focus\b' -- '*.go'; then echo "focused Ginkgo specs are committed"; exit 1; fi

clean:
	rm -rf bin scimlab-reports
