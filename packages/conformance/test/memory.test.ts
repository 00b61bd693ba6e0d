import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { registerConformanceSuite } from '@keyvent/conformance';
import { createMemoryDriver } from '@keyvent/core';

registerConformanceSuite({ describe, it, beforeAll, afterAll }, { name: 'memory', createDriver: () => createMemoryDriver() });
