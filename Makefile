# Windsock's build and test entry points. `make test` is the one command
# that runs every check; CI (.ci/run) calls exactly that.

GO ?= go
PKGS := ./...

.PHONY: test build run fmt-check vet unit bench

## test: formatting, vet, and the whole test suite with the race detector
test: fmt-check vet unit

build:
	$(GO) build -o bin/windsock ./cmd/windsock

run:
	$(GO) run ./cmd/windsock standalone

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 $(PKGS)

## bench: the performance figures the issues ask for
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x ./internal/dagprocessor/ ./internal/store/sqlite/ ./internal/dagfile/
