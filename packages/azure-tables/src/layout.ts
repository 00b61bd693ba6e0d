import type { TableClient } from '@azure/data-tables';
import { StoreLayoutError } from '@keyvent/core';
import { serviceCode } from './service-errors.js';

/**
 * The storage layout this version reads and writes: 2 has the sharded stream directory. It is kept in
 * the events table's entity (`%~layout`, `layout`): no stream's PartitionKey starts with `%~`.
 */
export const LAYOUT_VERSION = '2';
const LAYOUT_ENTITY = { partitionKey: '%~layout', rowKey: 'layout' };

/** The table's layout version, if it has one. */
export async function readLayout(client: TableClient): Promise<string | undefined> {
  try {
    return (await client.getEntity<{ v: string }>(LAYOUT_ENTITY.partitionKey, LAYOUT_ENTITY.rowKey)).v;
  } catch (error) {
    if (serviceCode(error) === 'ResourceNotFound') return undefined;
    throw error;
  }
}

/** Writes the layout version into a new table; refuses a table that holds another. */
export async function markLayout(client: TableClient): Promise<void> {
  try {
    await client.createEntity({ ...LAYOUT_ENTITY, v: LAYOUT_VERSION });
  } catch (error) {
    if (serviceCode(error) !== 'EntityAlreadyExists') throw error;
    const found = await readLayout(client);
    if (found !== LAYOUT_VERSION) throw new StoreLayoutError('azure-tables', found, LAYOUT_VERSION, client.tableName);
  }
}
