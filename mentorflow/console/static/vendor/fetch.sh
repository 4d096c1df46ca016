#!/usr/bin/env bash
# Vendors the console's browser libraries from the npm registry (`make vendor`): exact versions,
# each with its licence, served by the API from /static/vendor/ (no CDN at run time). Run it
# only to change a version; the files are committed.
set -euo pipefail
cd "$(dirname "$0")"
# name  version  file in the package                     served as
PACKAGES=(
  "htmx.org 2.0.11 dist/htmx.min.js htmx.min.js"
  "axe-core 4.14.1 axe.min.js axe.min.js"
  # Charts. vega-embed's UMD build bundles vega-interpreter (its dependency), which the
  # console's charts use (`ast: true`): expressions are interpreted, never compiled with
  # `new Function`, so the strict CSP (no 'unsafe-eval') holds.
  "vega 6.4.0 build/vega.min.js vega.min.js"
  "vega-lite 6.5.0 build/vega-lite.min.js vega-lite.min.js"
  "vega-embed 7.3.0 build/vega-embed.min.js vega-embed.min.js"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for entry in "${PACKAGES[@]}"; do
  read -r name version source target <<<"$entry"
  tarball=$(cd "$work" && npm pack --silent "$name@$version")
  mkdir -p "$work/$name" && tar -xzf "$work/$tarball" -C "$work/$name"
  rm -rf "$name" && mkdir -p "$name"
  cp "$work/$name/package/$source" "$name/$target"
  cp "$work/$name/package/LICENSE"* "$name/"
  echo "$name@$version" >"$name/VERSION"
  echo "vendored $name@$version"
done
