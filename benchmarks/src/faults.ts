#!/usr/bin/env node
import { randomUUID } from 'node:crypto';
import { Command, Option } from 'commander';
import { openStore } from '@keyvent/cli';
import { isConcurrencyError, isDriverError, type EventStore, type ExpectedVersion, type StoredEvent } from '@keyvent/core';
import { proxyBackend, type BackendName, type FaultProxy } from '@keyvent/testing';
import { cliArguments, prepareBackend, storeUrl } from './backends.js';

const SERVERS = ['dynamodb', 'azure-tables', 'cassandra', 'mongodb'] as const;
type Fault = 'reply lost' | 'request lost';
const FORMS = ['exact', 'zero', 'no_stream', 'exists', 'any'] as const;
 /** A round with no answer by then is a violation of its own. */
const HANG_MS = 20_000;
type Outcome = 'acknowledged' | 'conflict' | 'retryable error' | 'outcome unknown' | `outcome unknown (${string})` | 'other error';

/** One append through the proxy with a fault armed for its next request; returns its outcome and any violation. */
async function round(faulty: EventStore, clean: EventStore, proxy: FaultProxy, fault: Fault) {
  const form = FORMS[Math.floor(Math.random() * FORMS.length)]!;
  const size = 1 + Math.floor(Math.random() * 3);
  const prior = form === 'zero' || form === 'no_stream' ? 0 : 1 + Math.floor(Math.random() * 3);
  const rival = Math.random() < 0.25;
  const key = `faults/${randomUUID()}`;
  if (prior > 0) await clean.append(key, Array.from({ length: prior }, () => ({ type: 'Seed', data: null })), { expectedVersion: 0 });
  // A rival commits first: an exact or zero version is then stale, and only a conflict is true.
  if (rival) await clean.append(key, { type: 'Rival', data: null });
  const expected: ExpectedVersion = form === 'exact' ? prior : form === 'zero' ? 0 : form;
  if (process.env.FAULTS_TRACE) console.log(`round: ${form} size ${size} prior ${prior} rival ${rival} ${fault}`);
  const ours = Array.from({ length: size }, (_, i) => ({ type: 'Ours', data: { i }, id: `${key}#${i}` }));
  if (fault === 'reply lost') proxy.dropNextReply();
  else proxy.dropNextRequest();
  let outcome: Outcome;
  let error: unknown;
  try {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${HANG_MS} ms (proxy: ${JSON.stringify(proxy.counts)})`)), HANG_MS)));
    await Promise.race([faulty.append(key, ours, { expectedVersion: expected }), hung]).finally(() => clearTimeout(timer));
    outcome = 'acknowledged';
  } catch (caught) {
    error = caught;
    outcome = isConcurrencyError(caught) ? 'conflict'
      : !isDriverError(caught) ? 'other error'
      : caught.retryable ? 'retryable error'
      : /whether it is stored is unknown/.test(caught.message) ? 'outcome unknown'
      : 'other error';
  }
  const stored: StoredEvent[] = [];
  for await (const event of clean.readStream(key)) stored.push(event);
  const mine = stored.filter((event) => event.id.startsWith(key));
  const staleAllowed = rival && (form === 'exact' || form === 'zero' || form === 'no_stream');
  const violation =
    new Set(stored.map((event) => event.id)).size !== stored.length ? 'an id stored twice'
    : outcome === 'acknowledged' && mine.length !== size ? `acknowledged, ${mine.length} of ${size} events stored`
    : outcome !== 'acknowledged' && outcome !== 'outcome unknown' && mine.length > 0 ? `${outcome} (${(error as Error).message}), yet stored`
    : outcome === 'outcome unknown' && mine.length !== 0 && mine.length !== size ? 'part of a commit stored'
    : outcome === 'conflict' && !staleAllowed ? 'a conflict with no other writer'
    : outcome === 'other error' ? `unexpected error: ${(error as Error).message}`
    : undefined;
  if (outcome === 'outcome unknown') outcome = mine.length > 0 ? 'outcome unknown (stored when read)' : 'outcome unknown (not stored when read)';
  return { outcome, violation: violation && `${form}, ${size} event(s), ${fault}${rival ? ', rival first' : ''}: ${violation}` };
}

const program = new Command('faults')
  .description('appends through a proxy that loses a reply or a request each time; every outcome checked against what is stored')
  .addOption(new Option('-b, --backend <name>', 'the server backend').choices(SERVERS).makeOptionMandatory())
  .option('-r, --rounds <n>', 'faulted appends', Number, 300)
  .action(async (options: { backend: (typeof SERVERS)[number]; rounds: number }) => {
    const namespace = `f${Date.now().toString(36)}`;
    const backend = await prepareBackend(options.backend, namespace);
    const { proxy, connection } = await proxyBackend(options.backend as BackendName, backend.server!.connection);
    console.log(`faults on ${backend.name}: ${backend.description}, through a proxy on ${proxy.host}:${proxy.port}`);
    const clean = await backend.open();
    const faulty = await openStore(storeUrl({ name: backend.server!.name, connection }, namespace));
    const tally = new Map<string, number>();
    const violations: string[] = [];
    const started = Date.now();
    try {
      for (let i = 0; i < options.rounds; i++) {
        const fault: Fault = i % 2 === 0 ? 'reply lost' : 'request lost';
        const roundStart = Date.now();
        const { outcome, violation } = await round(faulty, clean, proxy, fault);
        if (process.env.FAULTS_TRACE) console.log(`  ${outcome} in ${Date.now() - roundStart} ms`);
        tally.set(`${fault}: ${outcome}`, (tally.get(`${fault}: ${outcome}`) ?? 0) + 1);
        if (violation) violations.push(violation);
      }
      console.log(`${options.rounds} faulted appends in ${((Date.now() - started) / 1000).toFixed(1)} s; proxy: ${proxy.counts.droppedReplies} replies and ${proxy.counts.droppedRequests} requests lost`);
      for (const [what, count] of [...tally].sort()) console.log(`  ${what}: ${count}`);
      console.log(`violations: ${violations.length}`);
      for (const violation of violations.slice(0, 20)) console.log(`  ${violation}`);
      process.exitCode = violations.length > 0 ? 1 : 0;
    } finally {
      await faulty.close();
      await clean.close();
      await proxy.close();
      await backend.stop();
    }
  });

await program.parseAsync(cliArguments(process.argv));
