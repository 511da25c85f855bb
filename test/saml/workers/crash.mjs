// A verification worker that dies on its first assertion (tests the pool's recovery).
import { parentPort } from 'node:worker_threads';
parentPort.on('message', () => {
  throw new Error('worker crashed');
});
parentPort.postMessage({ type: 'ready' });
