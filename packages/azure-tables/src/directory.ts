import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { compareKeys, createClaimedDirectory, directoryShardOf, type ShardRange } from '@keyvent/core';
import type { AzureTablesService } from './limits.js';
import { prefixUpperBound } from './keys.js';

/**
 * The stream directory's shards: 16 partitions of the events table by a hash of the key. No stream's
 * PartitionKey starts with `%~` (a `%` of an encoded key is always followed by two hex digits).
 */
export const DIRECTORY_SHARDS = 16;
const directoryPartition = (shard: number): string => `%~streams-${String(shard).padStart(2, '0')}`;

/** A directory entity: the stream's full key and whether its first commit is yet to be seen. */
interface DirectoryEntity {
  partitionKey: string;
  rowKey: string;
  k: string;
  p: boolean;
}

/**
 * The directory entity of a stream: pending until a listing has seen its first event. On Cosmos DB, whose
 * queries keep no key order and whose RowKeys take 255 bytes, the RowKey is the key's hash.
 */
export const directoryEntity = (key: string, pending: boolean, service: AzureTablesService = 'storage'): DirectoryEntity => ({
  partitionKey: directoryPartition(directoryShardOf(key, DIRECTORY_SHARDS)),
  rowKey: service === 'cosmos' ? createHash('sha256').update(key, 'utf8').digest('base64url') : directoryRowKey(key),
  k: key,
  p: pending,
});

/**
 * A RowKey that sorts as the key does in code point order, in Azure's (UTF-16 unit) order: each UTF-8
 * byte as a 1 bit then its 8 bits, a 0 bit at the end, cut into 15-bit groups, each group one character
 * from U+0100 up (past U+1FFF, from U+2100: U+2028 and U+2029 break Azurite's batch parser). A key of up
 * to 850 bytes fits the 512 units of a RowKey; a longer one keeps its first 800 bytes, a group of 1 bits
 * and 64 bits of its hash: it sorts after every shorter key that shares its first 800 bytes (whatever
 * follows them), and among the longer ones in hash order. No shorter key is out of order.
 */
export function directoryRowKey(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length <= MAX_WHOLE_BYTES) return pack(bitsOf(bytes, true));
  const hash = createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16);
  return pack(bitsOf(bytes.subarray(0, HEAD_BYTES), false), 1) + '\uffff' + hash;
}
const MAX_WHOLE_BYTES = 850;
const HEAD_BYTES = 800;

/** The RowKey range of the keys under a prefix (its first 800 bytes): [from, to), `to` undefined for no upper bound. */
export function directoryRange(prefix: string): { from: string; to: string | undefined } {
  if (prefix === '') return { from: '', to: undefined };
  const bits = bitsOf(Buffer.from(prefix, 'utf8').subarray(0, HEAD_BYTES), false);
  return { from: pack(bits), to: prefixUpperBound(pack(bits, 1)) };
}

function bitsOf(bytes: Uint8Array, ended: boolean): number[] {
  const bits: number[] = [];
  for (const byte of bytes) {
    bits.push(1);
    for (let bit = 7; bit >= 0; bit--) bits.push((byte >> bit) & 1);
  }
  if (ended) bits.push(0);
  return bits;
}

/** 15 bits a character; the last group filled with `fill`. */
function pack(bits: number[], fill = 0): string {
  let text = '';
  for (let i = 0; i < bits.length; i += 15) {
    let group = 0;
    for (let j = i; j < i + 15; j++) group = (group << 1) | (j < bits.length ? bits[j]! : fill);
    text += String.fromCharCode(group < 0x1f00 ? 0x100 + group : 0x2100 + group - 0x1f00);
  }
  return text;
}

export interface AzureDirectoryOptions {
  client: TableClient;
  service: AzureTablesService;
  /** Does the stream have its first event? */
  exists: (key: string) => Promise<boolean>;
  read: <T>(run: () => Promise<T>) => Promise<T>;
}

/**
 * The stream directory on Azure Tables. A commit's transaction must stay in the stream's partition, so
 * the directory cannot join it: it is claimed before a stream's first commit and confirmed by listing
 * (see `createClaimedDirectory`). Table Storage returns a partition's entities in RowKey order, so a shard
 * read costs its page; Cosmos DB returns them in no set order, so there it reads the whole shard.
 */
export function createAzureDirectory({ client, service, exists, read }: AzureDirectoryOptions) {
  /** Up to `limit` entities of a shard from the range, in key order. */
  function entitiesOf(shard: number, { prefix, after }: ShardRange, limit: number): Promise<DirectoryEntity[]> {
    const partition = odata`PartitionKey eq ${directoryPartition(shard)}`;
    if (service === 'cosmos') {
      return read(async () => {
        const entities: DirectoryEntity[] = [];
        for await (const page of client.listEntities<DirectoryEntity>({ queryOptions: { filter: partition, select: ['k', 'p'] } }).byPage({ maxPageSize: 1000 })) {
          for (const entity of page) if (entity.k.startsWith(prefix) && (after === undefined || compareKeys(entity.k, after) > 0)) entities.push(entity as DirectoryEntity);
        }
        return entities.sort((a, b) => compareKeys(a.k, b.k)).slice(0, limit);
      });
    }
    const { from, to } = directoryRange(prefix);
    const lower = after === undefined ? odata`RowKey ge ${from}` : odata`RowKey gt ${directoryRowKey(after)}`;
    const filter = `${partition} and ${lower}` + (to === undefined ? '' : ` and ${odata`RowKey lt ${to}`}`);
    return read(async () => {
      const entities: DirectoryEntity[] = [];
      for await (const page of client.listEntities<DirectoryEntity>({ queryOptions: { filter, select: ['k', 'p'] } }).byPage({ maxPageSize: Math.min(limit, 1000) })) {
        for (const entity of page) entities.push(entity as DirectoryEntity);
        if (entities.length >= limit) break;
      }
      return entities.slice(0, limit);
    });
  }

  return createClaimedDirectory({
    shards: DIRECTORY_SHARDS,
    read: async (shard, range, limit) => (await entitiesOf(shard, range, limit)).map((entity) => ({ key: entity.k, pending: entity.p })),
    write: (key, pending) => read(() => client.upsertEntity(directoryEntity(key, pending, service), 'Replace')),
    exists,
  });
}
