import { describe, expect, it } from '@jest/globals';
import { DriverError, redactSecrets } from '@keyvent/core';

const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

describe('secrets never reach a message', () => {
  it.each([
    ['a URL password', 'connect mongodb://app:hunter2@db.internal:27017/app failed', 'hunter2', 'mongodb://app:***@db.internal'],
    ['an Azure account key', `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${AZURITE_KEY};EndpointSuffix=core.windows.net`, AZURITE_KEY, 'AccountName=acme;AccountKey=***;'],
    ['a SAS token', 'GET https://acme.table.core.windows.net/events?sv=2019-02-02&sig=abc%2Bdef%3D&se=2030-01-01 403', 'abc%2Bdef', '&sig=***'],
    ['a SAS connection string', 'TableEndpoint=https://x;SharedAccessSignature=sv=2019&sig=secretsig', 'secretsig', 'SharedAccessSignature=***'],
    ['an AWS secret key', '{"accessKeyId":"AKIA1","secretAccessKey":"wJalrXUtnFEMI/K7MDENG"}', 'wJalrXUtnFEMI', '"secretAccessKey":"***"'],
    ['an AWS session token in a MongoDB URL', 'cannot open mongodb://h:1/db?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:FQoGZXIvYXdzEJr1,SERVICE_NAME:x', 'FQoGZXIvYXdz', 'AWS_SESSION_TOKEN:***,SERVICE_NAME:x'],
    ['a URL-encoded AWS session token', 'authMechanismProperties=AWS_SESSION_TOKEN%3AFQoGZXIvYXdzEJr1&x=1', 'FQoGZXIvYXdz', 'AWS_SESSION_TOKEN%3A***&x=1'],
    ['a bearer token', 'Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig-part', 'eyJhbGciOi', 'Bearer ***'],
    ['a password option', 'cassandra auth failed: password=s3cret; user=app', 's3cret', 'password=***'],
    ['a URL password with an @', 'cannot open mongodb://app:p@Zq9Secret@host:27017/db: refused', 'Zq9Secret', 'mongodb://app:***@host:27017/db: refused'],
    ['a URL password with a /', 'cannot open mongodb://app:ab/Zq9Secret@host:27017/db', 'Zq9Secret', 'mongodb://app:***@host:27017/db'],
    ['a URL password with a space', 'cannot open mongodb://app:ab Zq9Secret@host:27017/db', 'Zq9Secret', 'mongodb://app:***@host:27017/db'],
    ['a URL password in a quoted URL', '"mongodb://app:ab/Zq9 Secret@host:27017/db" is not a valid URL', 'Zq9', '"mongodb://app:***@host:27017/db" is not a valid URL'],
    ['a URL password in an option value', "error: option '-n, --limit <n>' argument 'redis://:p@ss/Zq9 Secret@host' is invalid.", 'Zq9', "'redis://:***@host' is invalid."],
  ])('masks %s', (_, text, secret, kept) => {
    const masked = redactSecrets(text);
    expect(masked).not.toContain(secret);
    expect(masked).toContain(kept);
  });

  it('keeps a text without secrets as it is', () => {
    const text = 'stream "orders/1": expected version 3, actual version 4 (https://docs.example/x?page=2)';
    expect(redactSecrets(text)).toBe(text);
  });

  it('masks the password of each URL in a line, and keeps what lies between them', () => {
    const masked = redactSecrets('copy mongodb://a:pw@1@h1:27017/db mongodb://b:pw/2@h2/db');
    expect(masked).toBe('copy mongodb://a:***@h1:27017/db mongodb://b:***@h2/db');
  });

  it('keeps a URL without a password as it is, and the stack lines after it', () => {
    const text = 'cannot open mongodb://db.internal:27017/app: connect ECONNREFUSED\n    at open (/app/node_modules/@keyvent/cli/dist/store-url.js:9:5)';
    expect(redactSecrets(text)).toBe(text);
  });

  it('masks them in every keyvent error message, whatever the backend error said', () => {
    const cause = new Error(`request to https://acme/?sig=topsecret failed; AccountKey=${AZURITE_KEY}`);
    const error = new DriverError('azure-tables', `the transaction failed: ${cause.message}`, { cause });
    expect(error.message).not.toContain('topsecret');
    expect(error.message).not.toContain(AZURITE_KEY);
  });
});
