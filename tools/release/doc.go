// Package release pins the release tools (goreleaser and cyclonedx-gomod, see
// the tool directives in go.mod; mk/release.mk builds them into bin/) and
// holds the tests that open a goreleaser dist directory and check what a
// release ships. They run only with TRUNKCTL_RELEASE_DIST set, as
// `make release-check` does; see docs/release.md.
package release
