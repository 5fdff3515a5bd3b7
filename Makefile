GO        ?= go
BIN       := bin/breakerlab
SCENARIO  ?= n8n-outage
OUT       ?= out
PKGS      := ./...
DOCKER_PKGS := ./testcontainer/ ./deploy/
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE     ?= breakerlab:dev
export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := 127.0.0.1

.PHONY: all build test check-generated run bench lint generate fuzz fakes clean serve

all: build

build:
	$(GO) build -o $(BIN) ./cmd/breakerlab

## test: generated code current, vet, then every test with the race detector (fuzz seed corpora included)
# The container tests build images and binaries; they run after the others,
# so that the timing-sensitive harness runs do not share the two cores with them.
test: check-generated
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $$($(GO) list $(PKGS) | grep -v -e '/testcontainer$$' -e '/deploy$$')
	$(GO) test -race -count=1 $(DOCKER_PKGS)

## check-generated: fail when graph/'s gqlgen code is not what graph/*.graphqls generates
check-generated:
	@tmp=$$(mktemp -d); cp graph/generated.go graph/models_gen.go graph/schema.resolvers.go $$tmp/; \
	$(GO) generate ./graph/... || exit 1; fail=0; \
	for f in generated.go models_gen.go schema.resolvers.go; do \
		cmp -s $$tmp/$$f graph/$$f || { echo "graph/$$f is not current with graph/*.graphqls; regenerated it: commit the result"; fail=1; }; \
	done; rm -rf $$tmp; exit $$fail

## run: the built-in scenario on the embedded defaults, fakes in-process
run: build
	$(BIN) run $(SCENARIO) --out $(OUT)

## serve: the GraphQL API, /metrics and /health over the default run store
serve: build
	$(BIN) serve

## fakes: only the fakes, with their control API, until interrupted
fakes: build
	$(BIN) fakes --scenario $(SCENARIO)

## bench: Go benchmarks of the hot paths, then 10,000 concurrent campaigns end to end
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./breaker/... ./clients/... ./fakes/... ./store/... ./graph/...
	$(BIN) bench --campaigns 10000

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: a short fuzzing session of each fuzz target
fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=30s ./scenarios/
	$(GO) test -run='^$$' -fuzz=FuzzHandler -fuzztime=30s ./fakes/hubspot/
	$(GO) test -run='^$$' -fuzz=FuzzHandler -fuzztime=30s ./fakes/lemlist/
	$(GO) test -run='^$$' -fuzz=FuzzHandler -fuzztime=30s ./fakes/explorium/
	$(GO) test -run='^$$' -fuzz=FuzzHandler -fuzztime=30s ./fakes/n8n/
	$(GO) test -run='^$$' -fuzz=FuzzStatement -fuzztime=30s ./fakes/pg/

## generate: regenerate generated code
generate:
	$(GO) generate ./...

clean:
	rm -rf bin $(OUT)

## image: the container image, FROM scratch around a static linux binary built here (no pull)
.PHONY: image
image:
	CGO_ENABLED=0 GOOS=linux $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/image/breakerlab ./cmd/breakerlab
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .
