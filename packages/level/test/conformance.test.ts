import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createLevelDriver } from '@keyvent/level';

const root = mkdtempSync(join(tmpdir(), 'keyvent-level-'));
let databases = 0;
afterAll(() => rmSync(root, { recursive: true, force: true }));

registerConformanceSuite({ describe, it, beforeAll, afterAll }, {
  name: 'level',
  createDriver: () => createLevelDriver({ location: join(root, `db-${databases++}`) }),
});
