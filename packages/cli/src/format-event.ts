import type { StoredEvent } from '@keyvent/core';

/** One line per event: sequence, type, timestamp, data (cut to fit a terminal). */
export function formatEvent(event: StoredEvent): string {
  const data = JSON.stringify(event.data);
  const shown = data.length > 80 ? `${data.slice(0, 77)}...` : data;
  return `${String(event.sequence).padStart(6)}  ${event.type.padEnd(20)}  ${event.timestamp}  ${shown}`;
}

/** An event of any stream (`tail --all`): its key, then the line of {@link formatEvent}. */
export const formatEventOfStream = (event: StoredEvent): string => `${event.key}  ${formatEvent(event)}`;
