// Package examples carries Strait's example manifests inside the binary.
package examples

import "embed"

// Quickstart holds examples/quickstart/*.yaml, under the directory
// "quickstart", so that `strait demo` can load the demo configuration from
// any working directory, without a checkout of the source tree. Files on
// disk are the source of truth; this is a build-time copy of them. An
// embed.FS is read-only, so sharing it as a package variable is safe.
//
//go:embed quickstart/*.yaml
var Quickstart embed.FS
