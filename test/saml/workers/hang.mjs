// A verification worker that loads and then never answers (tests the pool's time limit).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => {});
parentPort.postMessage({ type: 'ready' });
