export * from './aggregate.js';
export { createConsumer, type Consumer, type ConsumerOptions } from './consumer.js';
export type * from './driver.js';
export { searchLastSequence, type RetryOptions } from './driver-calls.js';
export { runBackendRequest, type BackendRequestOptions } from './driver-requests.js';
export * from './errors.js';
export { assertStreamKey, compareKeys, isInternalStream, MAX_KEY_BYTES, prefixEnd } from './keys.js';
export { redactSecrets } from './secrets.js';
export { sliceOf, type FeedEvent, type FeedOptions, type ReadAllOptions } from './feed.js';
export { commitPrefixOf, FEED_SLICES, FEED_START, feedKeyOf, feedPosition, positionAtStamp, positionInCommit, resumeInCommit, sequenceOf, stampOf, type FeedKey } from './feed-positions.js';
export { createClaimedDirectory, directoryShardOf, listShardedKeys, type ClaimedDirectoryOptions, type DirectoryEntry, type ShardPage, type ShardRange, type ShardReader } from './listing.js';
export { layoutCheck } from './layout.js';
export { pageBudget, READ_PAGE_BYTES } from './pages.js';
export { createMemoryDriver, type MemoryDriverOptions } from './memory-driver.js';
export * from './registry.js';
export * from './repository.js';
export {
  createStore,
  type AppendOptions,
  type AppendResult,
  type EventStore,
  type ListStreamsOptions,
  type ReadOptions,
  type StoreOptions,
} from './store.js';
export type { EventHandler, SubscribeOptions, SubscriptionDropped } from './subscriptions.js';
export type * from './types.js';
export { assertJson, eventBytes } from './validation.js';
