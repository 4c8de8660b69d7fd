// The postmaster supervisor's rules with a stand-in process: restart with backoff, give up, stop.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  PostmasterSupervisor,
  type PostmasterControl,
  type SupervisorEvent,
  type WatchedProcess,
} from '../../src/db/index.js';

/** A process stand-in: dies when told, like a postmaster under `kill -9`. */
class FakePostmaster extends EventEmitter implements WatchedProcess {
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  constructor(readonly pid: number) {
    super();
  }
  die(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.signalCode = signal;
    this.emit('exit', null, signal);
  }
}

/** A control whose starts succeed or fail as scripted; counts stops of running postmasters. */
class FakeControl implements PostmasterControl {
  readonly started: FakePostmaster[] = [];
  stops = 0;
  /** Each start takes the next outcome; an empty script means success. */
  script: ('ok' | 'fail' | 'hang')[] = [];
  #hung: ((child: FakePostmaster) => void) | undefined;

  async start(): Promise<FakePostmaster> {
    const outcome = this.script.shift() ?? 'ok';
    if (outcome === 'fail') throw new Error(`start ${this.started.length + 1} refused`);
    const child = new FakePostmaster(100 + this.started.length);
    this.started.push(child);
    if (outcome === 'hang') return new Promise((resolve) => (this.#hung = resolve));
    return child;
  }

  /** Lets a hung start finish now. */
  release(): void {
    const child = this.started.at(-1);
    if (child) this.#hung?.(child);
  }

  async stop(): Promise<void> {
    const child = this.started.at(-1);
    if (child && child.exitCode === null && child.signalCode === null) {
      this.stops += 1;
      child.die('SIGINT');
    }
  }

  current(): FakePostmaster {
    const child = this.started.at(-1);
    if (!child) throw new Error('nothing started');
    return child;
  }
}

async function until(condition: () => boolean, limitMs = 2_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function supervised(control: FakeControl, backoffMs = [10, 20, 40], attemptTimeoutMs = 1_000) {
  const events: SupervisorEvent[] = [];
  const supervisor = new PostmasterSupervisor(control, {
    backoffMs,
    attemptTimeoutMs,
    onEvent: (event) => events.push(event),
  });
  return { supervisor, events };
}

describe('PostmasterSupervisor', () => {
  it('restarts a postmaster that died, and again after the next death', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control);
    await supervisor.start();
    control.current().die();
    await until(() => events.some((e) => e.kind === 'restarted'));
    expect(events.map((e) => e.kind)).toEqual(['exited', 'restarted']);
    expect(events[0]).toMatchObject({ pid: 100, signal: 'SIGKILL' });
    expect(events[1]).toMatchObject({ attempt: 1, pid: 101 });

    control.current().die();
    await until(() => events.filter((e) => e.kind === 'restarted').length === 2);
    expect(control.started).toHaveLength(3);
    expect(supervisor.failure).toBeUndefined();
    await supervisor.stop();
    expect(control.stops).toBe(1);
  });

  it('retries failed starts with backoff, then gives up once with the last reason', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control);
    await supervisor.start();
    control.script = ['fail', 'fail', 'fail'];
    control.current().die();
    await until(() => events.some((e) => e.kind === 'gave-up'));
    expect(events).toEqual([
      { kind: 'exited', pid: 100, code: null, signal: 'SIGKILL' },
      { kind: 'restart-failed', attempt: 1, reason: 'start 2 refused', retryInMs: 20 },
      { kind: 'restart-failed', attempt: 2, reason: 'start 2 refused', retryInMs: 40 },
      { kind: 'gave-up', attempts: 3, reason: 'start 2 refused' },
    ]);
    expect(supervisor.failure).toBe('start 2 refused');
    await supervisor.stop();
  });

  it('recovers on a later attempt when the first ones fail (backends still detaching)', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control);
    await supervisor.start();
    control.script = ['fail', 'ok'];
    control.current().die();
    await until(() => events.some((e) => e.kind === 'restarted'));
    expect(events.map((e) => e.kind)).toEqual(['exited', 'restart-failed', 'restarted']);
    expect(events.at(-1)).toMatchObject({ attempt: 2 });
    await supervisor.stop();
  });

  it('does not restart a postmaster it stopped itself', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control);
    await supervisor.start();
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual([]);
    expect(control.started).toHaveLength(1);
  });

  it('stopped while waiting to restart: no further start', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control, [200]);
    await supervisor.start();
    control.current().die();
    await supervisor.stop();
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(events.map((e) => e.kind)).toEqual(['exited']);
    expect(control.started).toHaveLength(1);
  });

  it('stopped while a restart is starting: the postmaster it brings up is stopped', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control);
    await supervisor.start();
    control.script = ['hang'];
    control.current().die();
    await until(() => control.started.length === 2);
    const stopping = supervisor.stop();
    control.release();
    await stopping;
    expect(control.current().signalCode).toBe('SIGINT');
    expect(events.map((e) => e.kind)).toEqual(['exited']);
  });

  it('ends the dead postmaster’s orphans before the first restart attempt', async () => {
    const calls: string[] = [];
    const control = new FakeControl();
    const start = control.start.bind(control);
    control.start = async () => {
      calls.push('start');
      return start();
    };
    const withOrphans: PostmasterControl = {
      start: () => control.start(),
      stop: () => control.stop(),
      endOrphans: async () => {
        calls.push('endOrphans');
        return { found: 3, killed: 1 };
      },
    };
    const events: SupervisorEvent[] = [];
    const supervisor = new PostmasterSupervisor(withOrphans, {
      backoffMs: [10],
      onEvent: (event) => events.push(event),
    });
    await supervisor.start();
    control.current().die();
    await until(() => events.some((e) => e.kind === 'restarted'));
    expect(calls).toEqual(['start', 'endOrphans', 'start']);
    expect(events.map((e) => e.kind)).toEqual(['exited', 'orphans-ended', 'restarted']);
    expect(events[1]).toEqual({ kind: 'orphans-ended', found: 3, killed: 1 });
    await supervisor.stop();
  });

  it('an attempt not ready in time is stopped and counted as failed', async () => {
    const control = new FakeControl();
    const { supervisor, events } = supervised(control, [10, 10], 50);
    await supervisor.start();
    control.script = ['hang'];
    control.current().die();
    await until(() => events.some((e) => e.kind === 'restarted'));
    expect(events.map((e) => e.kind)).toEqual(['exited', 'restart-failed', 'restarted']);
    expect(events[1]).toMatchObject({ reason: 'not ready within 50 ms' });
    expect(control.started[1]?.signalCode).toBe('SIGINT');
    await supervisor.stop();
  });
});
