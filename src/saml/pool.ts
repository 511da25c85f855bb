import { Unavailable } from '../errors.js';
import { Worker } from 'node:worker_threads';
import { SamlValidationError } from './errors.js';
import type { SamlBearerClaims, SamlVerifyOptions } from './types.js';
import type { FromWorker, ToWorker, WorkerVerifyOptions } from './worker-protocol.js';

/**
 * The compiled worker. From src/saml (tests) and from dist/saml alike this is <root>/dist/saml:
 * the worker always runs built code (`npm run build`).
 */
export const DEFAULT_WORKER_URL = new URL('../../dist/saml/worker.js', import.meta.url);
/** Worker time one assertion may take (the issuer lookup on the main thread not counted). */
export const DEFAULT_JOB_TIMEOUT_MS = 5000;
/** A 16 KiB assertion needs a few MB; a worker over these limits dies and is replaced. */
const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };

/** Every worker busy and the queue full, or the pool closed: the caller answers 503. */
export class SamlUnavailableError extends Unavailable {
  override name = 'SamlUnavailableError';
  constructor(message: string, retryAfterSeconds = 1) {
    super(message, { retryAfterSeconds });
  }
}

export interface SamlPoolOptions {
  /** Number of worker threads (fixed; each one is started on first use and then kept). */
  size: number;
  /** Assertions that may wait for a worker; one more is refused with SamlUnavailableError. */
  queueSize: number;
  timeoutMs?: number;
  workerUrl?: URL;
}

interface Job {
  id: number;
  xml: string;
  options: WorkerVerifyOptions;
  findIdp: SamlVerifyOptions['findIdp'];
  resolve(claims: SamlBearerClaims): void;
  reject(error: unknown): void;
  lookupError?: unknown;
}

interface Slot {
  worker: Worker | undefined;
  /** The worker has loaded the verifier (a failure before that is a deployment problem, not the assertion's). */
  ready: boolean;
  job: Job | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A fixed-size pool of worker threads that verify decoded assertions, with a bounded queue.
 * Each worker verifies one assertion at a time; the issuer lookup (`findIdp`, the database) is
 * answered on the main thread. A worker that crashes, runs out of its memory limit or exceeds
 * the time limit is terminated and replaced; only its own assertion is refused.
 */
export class SamlWorkerPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly timeoutMs: number;
  private readonly workerUrl: URL;
  private nextId = 1;
  private started = 0;
  private closed = false;

  constructor(private readonly opts: SamlPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || !Number.isInteger(opts.queueSize) || opts.queueSize < 0) {
      throw new TypeError('SamlWorkerPool: size must be an integer >= 1 and queueSize an integer >= 0');
    }
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    this.workerUrl = opts.workerUrl ?? DEFAULT_WORKER_URL;
    this.slots = Array.from({ length: opts.size }, () => ({ worker: undefined, ready: false, job: undefined, timer: undefined }));
  }

  /** Verifications running and waiting, live workers, and assertions given to a worker so far. */
  stats(): { busy: number; queued: number; workers: number; started: number } {
    return {
      started: this.started,
      busy: this.slots.filter((s) => s.job).length,
      queued: this.queue.length,
      workers: this.slots.filter((s) => s.worker).length,
    };
  }

  /**
   * Verifies a decoded assertion in a worker. Rejects with SamlValidationError (the assertion is
   * invalid), SamlUnavailableError (no room: nothing was done), the error `findIdp` threw, or an
   * Error when the worker cannot run at all.
   */
  verify(xml: string, options: WorkerVerifyOptions, findIdp: SamlVerifyOptions['findIdp']): Promise<SamlBearerClaims> {
    if (this.closed) return Promise.reject(new SamlUnavailableError('the SAML verifier is shutting down'));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, xml, options, findIdp, resolve, reject };
      const free = this.slots.find((s) => !s.job);
      if (free) this.start(free, job);
      else if (this.queue.length < this.opts.queueSize) this.queue.push(job);
      else reject(new SamlUnavailableError('every SAML verification worker is busy and the queue is full'));
    });
  }

  /** Refuses what waits, stops the workers (an assertion still running is refused as unavailable). */
  async close(): Promise<void> {
    this.closed = true;
    const closing = new SamlUnavailableError('the SAML verifier is shutting down');
    for (const job of this.queue.splice(0)) job.reject(closing);
    await Promise.all(
      this.slots.map(async (slot) => {
        const { worker, job } = slot;
        this.release(slot);
        slot.worker = undefined;
        job?.reject(closing);
        await worker?.terminate();
      }),
    );
  }

  private start(slot: Slot, job: Job): void {
    slot.job = job;
    const worker = slot.worker ?? this.spawn(slot);
    if (!worker) return;
    this.started++;
    this.arm(slot, job);
    this.post(slot, { type: 'verify', id: job.id, xml: job.xml, options: job.options });
  }

  private spawn(slot: Slot): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.workerUrl, { resourceLimits: RESOURCE_LIMITS });
    } catch (error) {
      this.finish(slot, (job) => job.reject(startFailure(error)));
      return undefined;
    }
    // Idle workers never keep the process alive; close() stops them on shutdown.
    worker.unref();
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (message: FromWorker) => {
      if (slot.worker === worker) this.onMessage(slot, message);
    });
    worker.on('error', (error) => this.onDeath(slot, worker, error));
    worker.on('exit', (code) => this.onDeath(slot, worker, new Error(`exited with code ${code}`)));
    return worker;
  }

  private post(slot: Slot, message: ToWorker): void {
    try {
      slot.worker?.postMessage(message);
    } catch (error) {
      // Only an IdP record that cannot be cloned gets here: treat it as a failed lookup.
      const job = slot.job;
      if (!job || message.type !== 'idp') throw error;
      job.lookupError = error;
      slot.worker?.postMessage({ type: 'idp-failed', id: job.id } satisfies ToWorker);
    }
  }

  private onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === 'ready') {
      slot.ready = true;
      return;
    }
    const job = slot.job;
    if (!job || message.id !== job.id) return;
    switch (message.type) {
      case 'find-idp':
        this.lookup(slot, job, message.issuer);
        return;
      case 'claims':
        this.finish(slot, (j) => j.resolve(message.claims));
        return;
      case 'invalid':
        this.finish(slot, (j) => j.reject(new SamlValidationError(message.description)));
        return;
      case 'lookup-failed':
        this.finish(slot, (j) => j.reject(j.lookupError));
        return;
      case 'error':
        this.finish(slot, (j) => j.reject(new Error(`SAML verification failed in the worker: ${message.message}`)));
    }
  }

  /** The issuer lookup runs here, on the main thread; the time limit pauses meanwhile. */
  private lookup(slot: Slot, job: Job, issuer: string): void {
    clearTimeout(slot.timer);
    const current = () => slot.job === job && slot.worker !== undefined;
    Promise.resolve()
      .then(() => job.findIdp(issuer))
      .then(
        (idp) => {
          if (!current()) return;
          this.arm(slot, job);
          this.post(slot, { type: 'idp', id: job.id, idp: idp ?? null });
        },
        (error: unknown) => {
          if (!current()) return;
          job.lookupError = error;
          this.arm(slot, job);
          this.post(slot, { type: 'idp-failed', id: job.id });
        },
      );
  }

  private arm(slot: Slot, job: Job): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => {
      if (slot.job !== job) return;
      const worker = slot.worker;
      slot.worker = undefined;
      void worker?.terminate();
      this.finish(slot, (j) => j.reject(new SamlValidationError('assertion took too long to validate')));
    }, this.timeoutMs);
    slot.timer.unref();
  }

  private onDeath(slot: Slot, worker: Worker, error: Error): void {
    if (slot.worker !== worker) return; // already replaced (time limit, close) or reported by 'error'
    slot.worker = undefined;
    const ready = slot.ready;
    slot.ready = false;
    // A worker that could not load its code failed to start; one that died otherwise died on its
    // assertion (its 'ready' may still be in flight: error events and messages are not ordered).
    const couldNotStart = !ready && isLoadError(error);
    this.finish(slot, (job) => job.reject(couldNotStart ? startFailure(error) : new SamlValidationError('assertion could not be validated')));
  }

  private release(slot: Slot): Job | undefined {
    clearTimeout(slot.timer);
    slot.timer = undefined;
    const job = slot.job;
    slot.job = undefined;
    return job;
  }

  /** Settles the slot's job and gives the slot the next waiting one. */
  private finish(slot: Slot, settle: (job: Job) => void): void {
    const job = this.release(slot);
    if (job) settle(job);
    if (this.closed) return;
    const next = this.queue.shift();
    if (next) this.start(slot, next);
  }
}

/** An error of loading the worker's code (a missing or broken module), not of running it. */
function isLoadError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return error.name === 'SyntaxError' || (typeof code === 'string' && (code.includes('MODULE_NOT_FOUND') || code.startsWith('ERR_WORKER') || code === 'ERR_UNKNOWN_FILE_EXTENSION'));
}

function startFailure(error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`the SAML verification worker could not start (${reason}); is dist/ built (npm run build)?`);
}
