// Run by check-packages.sh from the scratch project its tarballs are installed in (copied there, so
// that `require` resolves in that project), as `node load-packages.cjs LOADED NAME...`: loads each
// package NAME through require() and through import(). Both must work, export something, and give the
// same module (one instance: no dual-package hazard). A package whose engines.node excludes this Node
// is skipped; the names loaded are appended to the file LOADED, one a line, so that check-packages.sh
// can check that each package was loaded on some Node it tried. Prints one line: what was loaded and
// what was skipped.
const { appendFileSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** True if this Node satisfies `range`, which must be of the form >=X, >=X.Y or >=X.Y.Z. */
function satisfies(range, name) {
  const match = /^>=(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range ?? '');
  if (!match) throw new Error(`${name}: engines.node ${JSON.stringify(range)} is not of the form >=X.Y.Z that load-packages.cjs reads`);
  const wanted = match.slice(1).map((part) => Number(part ?? 0));
  const running = process.versions.node.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) if (running[i] !== wanted[i]) return running[i] > wanted[i];
  return true;
}

async function main(loadedFile, names) {
  const loaded = [];
  const skipped = [];
  for (const name of names) {
    const manifest = JSON.parse(readFileSync(join(__dirname, 'node_modules', name, 'package.json'), 'utf8'));
    if (!satisfies(manifest.engines?.node, name)) { skipped.push(`${name} (engines.node ${manifest.engines.node})`); continue; }
    const required = require(name);
    const imported = await import(name);
    if (Object.keys(required).length === 0) throw new Error(`${name}: require() gave a module with no exports`);
    if (required !== imported) throw new Error(`${name}: require() and import() gave two different module instances`);
    loaded.push(name);
  }
  appendFileSync(loadedFile, loaded.map((name) => `${name}\n`).join(''));
  const rest = skipped.length > 0 ? `; skipped ${skipped.join(', ')}` : '';
  console.log(`require() and import() of ${loaded.length} packages on Node ${process.version}: each loads, exports, and is one module${rest}`);
}

main(process.argv[2], process.argv.slice(3)).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
