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
	$(GO) run ./cmd/koha-webhooks demo

# make bench BENCHFLAGS="-n 100000" passes flags; go run ./cmd/koha-webhooks-bench -help lists them.
bench:
	$(GO) run ./cmd/koha-webhooks-bench $(BENCHFLAGS)

fuzz:
	$(GO) test -run '^$$' -fuzz=FuzzParse -fuzztime=60s ./internal/notice/

# make package builds $(DIST)/koha-webhooks_<version>_<arch>.deb: the binary,
# the systemd unit and the settings file of packaging/. nfpm runs through
# "go run" at a pinned version, so the first build fetches it through the Go
# module proxy and later builds work offline from the module cache.
NFPM ?= $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
DIST ?= dist
PACKAGE_GOARCH ?= $(shell $(GO) env GOARCH)
DEB_MAINTAINER ?= koha-webhooks maintainers <koha-webhooks@localhost>
# A tag v1.2.0 gives 1.2.0; an untagged commit gives 0.0.0~git<hash>.
DEB_VERSION ?= $(shell echo '$(VERSION)' | sed -E 's/^v//; s/-/+/g; /^[0-9]/!s/^/0.0.0~git/')

.PHONY: package
package:
	mkdir -p $(DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(PACKAGE_GOARCH) $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(DIST)/koha-webhooks ./cmd/koha-webhooks
	KOHA_WEBHOOKS_BINARY=$(DIST)/koha-webhooks DEB_VERSION='$(DEB_VERSION)' GOARCH=$(PACKAGE_GOARCH) DEB_MAINTAINER='$(DEB_MAINTAINER)' \
		$(NFPM) package --config packaging/nfpm.yaml --packager deb --target $(DIST)/

# make kpz packs the Koha plugin (koha-plugin/Koha) into dist/koha-webhooks-plugin-KPZ_VERSION.kpz.
# A tag v1.2.0 gives version 1.2.0; an untagged commit gives 0.0.0-<hash>.
KPZ_VERSION ?= $(shell echo '$(VERSION)' | sed -E 's/^v//; /^[0-9]/!s/^/0.0.0-/')
.PHONY: kpz
kpz:
	$(GO) run ./koha-plugin/kpz -version '$(KPZ_VERSION)' -source koha-plugin -out $(or $(DIST),dist)
