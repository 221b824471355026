# koha-webhooks build and test targets. Go 1.26 and a local MariaDB
# (root without password on 127.0.0.1:3306) are assumed; see README.md.

GO ?= go
VERSION ?= $(shell git describe --tags --always 2>/dev/null || echo dev)
LDFLAGS := -X github.com/koha-webhooks/koha-webhooks/internal/version.Version=$(VERSION)

.PHONY: build test demo bench fuzz vet

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/koha-webhooks ./cmd/koha-webhooks

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 -timeout 15m ./...

demo:
	$(GO) run ./cmd/koha-webhooks-demo

fuzz:
	$(GO) test -run '^$$' -fuzz=FuzzParse -fuzztime=60s ./internal/notice/
