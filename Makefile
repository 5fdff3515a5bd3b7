GO        ?= go
BIN       := bin/breakerlab
SCENARIO  ?= n8n-outage
OUT       ?= out
PKGS      := ./...
export TESTCONTAINERS_RYUK_DISABLED := true
export TESTCONTAINERS_HOST_OVERRIDE := 127.0.0.1

.PHONY: all build test run bench lint generate fuzz fakes clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/breakerlab

## test: vet, then every test with the race detector (fuzz seed corpora included)
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

## run: the built-in scenario on the embedded defaults, fakes in-process
run: build
	$(BIN) run $(SCENARIO) --out $(OUT)

## fakes: only the fakes, with their control API, until interrupted
fakes: build
	$(BIN) fakes --scenario $(SCENARIO)

## bench: Go benchmarks of the hot paths, then 10,000 concurrent campaigns end to end
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem ./breaker/... ./clients/... ./fakes/...
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
