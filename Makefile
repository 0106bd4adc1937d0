# campaignd: `make demo` runs the main job on the example config, `make test` runs the tests.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
DEMO_AT ?= 2026-11-20T12:00:00Z
# The units `make lint` checks (verify: all but the binary and its man page
# not being installed; security: exposure at most 2.0).
UNITS   := systemd/campaignd.service systemd/campaignd@.service

# The Debian packages `make deb` builds (README.md, "Building and checking the package").
DEB_ARCHS ?= amd64 arm64

.PHONY: all build man demo test lint deb deb-check fuzz bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o campaignd ./cmd/campaignd

# campaignd(8), generated from the built program's --help and each command's --help.
man: build
	$(GO) run ./packaging/manpage -bin ./campaignd -version $(VERSION) > campaignd.8

# Drop the example reports into the inbox of the example config, run one pass
# at a fixed instant, and show the ledger. Run it again: nothing is sent twice.
demo: build
	mkdir -p var/inbox
	cp examples/all-orders.txt examples/fba-customer-returns.txt var/inbox/
	./campaignd run --once --config config.example.toml --at $(DEMO_AT) --force-clock
	./campaignd status --config config.example.toml
	@echo; echo "review requests written to var/outbox/:"; ls var/outbox

# The whole test suite with the race detector, after lint. A race-enabled
# binary sleeps a second at exit by default, for goroutines still running to
# report; the tests stop what they start, so the suite does not wait for it
# in each of its test binaries.
test: lint
	GORACE=atexit_sleep_ms=0 $(GO) test -race -count=1 ./...

# Format, vet, staticcheck (pinned in scripts/staticcheck), the layering of
# the packages (layering_test.go), and the units.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	./scripts/staticcheck
	$(GO) test -count=1 -run '^TestLayering$$' .
	@if command -v systemd-analyze >/dev/null; then \
		out=$$(systemd-analyze verify --man=no $(UNITS) 2>&1 | grep -v 'Command /usr/bin/campaignd is not executable'); \
		if [ -n "$$out" ]; then echo "systemd-analyze verify:"; echo "$$out"; exit 1; fi; \
		out=$$(systemd-analyze security --offline=yes --threshold=20 $(UNITS) 2>&1) || { echo "$$out"; exit 1; }; \
		echo "$$out" | grep 'Overall exposure'; \
	else echo "systemd-analyze not installed: units not checked"; fi

deb:
	packaging/build-deb -o dist $(DEB_ARCHS)

# The package of this machine's architecture, built as two versions: lintian
# (no error, no warning), then install, upgrade, remove and purge in a
# throwaway root (packaging/test-deb). Skipped without dpkg-deb and lintian;
# the install test is skipped without root and overlayfs unless DEB_TEST=require.
deb-check:
	@if ! command -v dpkg-deb >/dev/null || ! command -v lintian >/dev/null; then \
		echo "dpkg-deb or lintian not installed: package not checked"; exit 0; fi; \
	arch=$$(dpkg --print-architecture); d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	DEB_VERSION=0~check1 packaging/build-deb -o "$$d/1" $$arch >/dev/null && \
	DEB_VERSION=0~check2 packaging/build-deb -o "$$d/2" $$arch >/dev/null && \
	lintian --fail-on error,warning "$$d/2/campaignd_0~check2_$$arch.deb" && \
	echo "lintian: no error, no warning" && \
	{ rc=0; packaging/test-deb "$$d/1/campaignd_0~check1_$$arch.deb" "$$d/2/campaignd_0~check2_$$arch.deb" || rc=$$?; \
	  if [ $$rc = 77 ] && [ "$$DEB_TEST" != require ]; then rc=0; fi; exit $$rc; }

# Long runs, by hand (results go in the README).
fuzz:
	$(GO) test -run=NONE -fuzz=FuzzParse -fuzztime=5m ./internal/orders/
	$(GO) test -run=NONE -fuzz=FuzzCheck -fuzztime=5m ./internal/policy/

bench:
	./scripts/bench

clean:
	rm -rf campaignd campaignd.8 var dist
