# Releases (.goreleaser.yaml, docs/release.md): archives of trunkctl for six
# platforms, hostbootstrap as archives, .deb and .rpm, dist/lambda.zip and
# dist/guard.zip, SBOMs
# and checksums.txt, into dist/release/. goreleaser and cyclonedx-gomod are
# pinned in their own nested module, tools/release, and built into bin/ only
# for these targets (goreleaser takes minutes to build; `make test` never does).
.PHONY: release-tools release-snapshot release-check release
RELEASE_DIST := $(DIST)/release
GORELEASER := $(BIN)/goreleaser
CYCLONEDX := $(BIN)/cyclonedx-gomod
# goreleaser runs the SBOM tool by name from PATH.
RELEASE_ENV := PATH="$(abspath $(BIN)):$$PATH"

release-tools: $(GORELEASER) $(CYCLONEDX)

$(GORELEASER): tools/release/go.mod tools/release/go.sum
	@mkdir -p $(BIN)
	cd tools/release && CGO_ENABLED=0 $(GO) build -trimpath -o ../../$@ github.com/goreleaser/goreleaser/v2

$(CYCLONEDX): tools/release/go.mod tools/release/go.sum
	@mkdir -p $(BIN)
	cd tools/release && CGO_ENABLED=0 $(GO) build -trimpath -o ../../$@ github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod

# Everything a release has, versioned <next patch>-SNAPSHOT-<commit>, published
# nowhere. lambda.zip and guard.zip are copied beside the rest so that
# `cd dist/release && sha256sum -c checksums.txt` checks every file.
release-snapshot: $(GORELEASER) $(CYCLONEDX)
	$(RELEASE_ENV) $(GORELEASER) release --snapshot --clean
	cp $(LAMBDA_ZIP) $(RELEASE_DIST)/lambda.zip
	cp $(GUARD_ZIP) $(RELEASE_DIST)/guard.zip
	cd $(RELEASE_DIST) && sha256sum --quiet -c checksums.txt

# The snapshot, then the tests (tools/release/release_test.go) that open its
# archives and packages.
release-check: release-snapshot
	cd tools/release && CGO_ENABLED=0 TRUNKCTL_RELEASE_DIST=$(abspath $(RELEASE_DIST)) $(GO) test -count=1 -run '^TestRelease' .

# A real release from a tag (git tag vX.Y.Z && make release): needs
# GITHUB_TOKEN and publishes to GitHub.
release: $(GORELEASER) $(CYCLONEDX)
	$(RELEASE_ENV) $(GORELEASER) release --clean
