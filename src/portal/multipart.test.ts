import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseError } from '../errors.js';
import { multipartForms, TOO_LARGE_FORM, UNREADABLE_FORM } from './multipart.js';

const part = (b: string, name: string, value: string, filename?: string) =>
  `--${b}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${value}\r\n`;

describe('multipartForms', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    app.setErrorHandler((err: FastifyError, _request, reply) => {
      const e = err instanceof GatehouseError ? err : undefined;
      return reply.code(e?.status ?? err.statusCode ?? 500).send({ kind: e?.kind ?? 'fastify', message: err.message });
    });
    await app.register(async (scope) => {
      await multipartForms(scope);
      scope.post('/upload', async (request) => {
        const body = request.body as Record<string, unknown>;
        return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, [v].flat().map((x) => (Buffer.isBuffer(x) ? `file:${x.toString('utf8')}` : x))]));
      });
    });
    app.post('/elsewhere', async () => 'reached');
  });
  afterAll(async () => app?.close());

  const send = (url: string, type: string, payload: string) => app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });

  it('reads fields as strings and files as Buffers, a repeated name as an array', async () => {
    const r = await send('/upload', 'multipart/form-data; boundary=B', `${part('B', 'a', '1')}${part('B', 'f', 'one', 'one.pem')}${part('B', 'f', 'two', 'two.pem')}--B--\r\n`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ a: ['1'], f: ['file:one', 'file:two'] });
  });

  it('no boundary, a body cut short, or a field named like a prototype property is 400 with the fixed message', async () => {
    for (const [type, payload] of [
      ['multipart/form-data', 'garbage'],
      ['multipart/form-data; boundary=zzz', '--zzz\r\nContent-Disposition: form-data; name="csrf"\r\n\r\nabc'],
      ['multipart/form-data; boundary=B', `${part('B', '__proto__', 'x')}--B--\r\n`],
    ] as const) {
      const r = await send('/upload', type, payload);
      expect(r.statusCode, payload).toBe(400);
      expect(r.json()).toEqual({ kind: 'invalid', message: UNREADABLE_FORM });
    }
  });

  it('a file or a field over 64 KiB, or more parts than allowed, is 413', async () => {
    const big = 'x'.repeat(64 * 1024 + 1);
    for (const payload of [
      `${part('B', 'f', big, 'big.pem')}--B--\r\n`,
      `${part('B', 'a', big)}--B--\r\n`,
      `${Array.from({ length: 31 }, (_, i) => part('B', `a${i}`, 'v')).join('')}--B--\r\n`,
    ]) {
      const r = await send('/upload', 'multipart/form-data; boundary=B', payload);
      expect(r.statusCode).toBe(413);
      expect(r.json()).toEqual({ kind: 'too_large', message: TOO_LARGE_FORM });
    }
  });

  it('outside its scope multipart is not read: fastify refuses the content type (415)', async () => {
    const r = await send('/elsewhere', 'multipart/form-data; boundary=B', `${part('B', 'a', '1')}--B--\r\n`);
    expect(r.statusCode).toBe(415);
  });
});
