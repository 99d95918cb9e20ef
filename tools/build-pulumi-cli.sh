#!/bin/sh
# Build the pinned Pulumi CLI and the YAML language host from their Go modules into
# .pulumi-cli/bin (git ignores it), and put the SDK's dynamic-provider script beside them.
#
# The versions are the ones tools/pulumi/go.mod and tools/pulumi-yaml/go.mod pin (go.sum
# verifies every module). Two modules, because pulumi-yaml v1.25.0 builds only against the
# pkg/v3 it was released with (v3.206.0), not the CLI's (v3.276.0). Nothing is downloaded
# except Go modules through the module proxy.
#
# Not built, because the Go module proxy serves no version of them (docs/real-engine.md):
# pulumi-language-python and pulumi-language-nodejs.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/.pulumi-cli/bin"
mkdir -p "$out"
export GOFLAGS=-mod=readonly

version() { (cd "$1" && go list -m -f '{{.Version}}' "$2"); }

cli_version=$(version "$root/tools/pulumi" github.com/pulumi/pulumi/pkg/v3)
yaml_version=$(version "$root/tools/pulumi-yaml" github.com/pulumi/pulumi-yaml)

echo "building pulumi $cli_version and pulumi-language-yaml $yaml_version into .pulumi-cli/bin"
(cd "$root/tools/pulumi" && go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version" \
    -o "$out/" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
(cd "$root/tools/pulumi-yaml" && go build -trimpath \
    -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version" \
    -o "$out/" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml)

# The engine starts Python dynamic providers through this script of the SDK module (the
# release archives ship it beside the binaries); it is in the module cache after the build.
sdk=$(cd "$root/tools/pulumi" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$out/"
"$out/pulumi" version
