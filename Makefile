# Windsock's build and test entry points. `make test` is the one command
# that runs every check; CI (.ci/run) calls exactly that.

GO ?= go
PKGS := ./...
# pipefail: the test suite's status survives the pipe into testreport.
SHELL := bash
.SHELLFLAGS := -o pipefail -c
# staticcheck from the PATH (.ci/run installs it: go install
# honnef.co/go/tools/cmd/staticcheck@v0.8.2); skipped, and said so, without it.
STATICCHECK ?= $(shell command -v staticcheck 2>/dev/null)

.PHONY: test build run fmt-check vet staticcheck unit bench

## test: formatting, vet, staticcheck, and the whole test suite with the
## race detector; it ends with the list of the tests that skipped and why
## (PostgreSQL tests without WINDSOCK_TEST_POSTGRES_URL, browser tests
## without Chromium).
test: fmt-check vet staticcheck unit

## build: bin/windsock, static (no cgo) so that it runs on any Linux host
build:
	CGO_ENABLED=0 $(GO) build -o bin/windsock ./cmd/windsock

run:
	$(GO) run ./cmd/windsock standalone

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
ifeq ($(STATICCHECK),)
	@if [ "$$CI" = true ]; then echo "staticcheck is not installed: CI must run it"; exit 1; fi
	@echo "staticcheck is not installed: skipping it (go install honnef.co/go/tools/cmd/staticcheck@v0.8.2)"
else
	$(STATICCHECK) $(PKGS)
endif

# -timeout: a package's tests may take longer than go test's default
# 10 minutes on a loaded 2-core host (internal/app takes 5-6 quiet);
# a hung test still ends the run within CI's 30-minute limit.
unit:
	$(GO) test -race -count=1 -timeout 25m -json $(PKGS) | $(GO) run ./internal/tools/testreport

## bench: the performance figures the issues ask for. Homes go in a new
## folder under $(BENCH_DIR) (.bench/ in the checkout), removed only once
## every benchmark has run: deleting the files a run logs into slows the
## creation of files for a minute afterwards on ext4 without a journal
## (see internal/benchdir).
BENCH_DIR ?= $(CURDIR)/.bench
bench:
	@mkdir -p $(BENCH_DIR)
	@run=$$(mktemp -d $(BENCH_DIR)/run.XXXXXX) && \
	WINDSOCK_BENCH_DIR=$$run $(GO) test -run '^$$' -bench . -benchtime 5x \
		./internal/app/ ./internal/cli/ ./internal/dagprocessor/ ./internal/pyrt/ \
	&& WINDSOCK_API_LOAD_DURATION=60s $(GO) test -run '^$$' -bench . ./internal/store/sqlite/ ./internal/dagfile/ ./internal/scheduler/decide/ ./internal/template/ ./internal/api/ \
		./internal/web/ ./internal/web/dagview/ ./internal/logserver/; \
	status=$$?; rm -rf $$run; exit $$status
