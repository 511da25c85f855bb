import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectations, parseBlocks, relocate, segments, Shell, splitTopLevel } from '../support/readme.js';

// The machinery of the README test (walkthrough.test.ts), on small inputs: no server, fast.
describe('the README runner', () => {
  it('parses blocks with their section, step and marker', () => {
    const md = [
      '## Setup', '', '**1. First.**', '', '<!-- readme-test: skip: too slow -->', '```sh', 'npm test', '```',
      '```text', 'output', '```', '<!-- readme-test: browser URL bob pw CODE -->', '', '```text', 'x', '```', '```bash', 'echo hi   # in the first terminal', 'ls', '```',
    ].join('\n');
    const blocks = parseBlocks(md);
    expect(blocks.map((b) => [b.line, b.lang, b.where, b.marker?.kind])).toEqual([
      [6, 'sh', '## Setup › 1. First.', 'skip'],
      [9, 'text', '## Setup › 1. First.', undefined],
      [14, 'text', '## Setup › 1. First.', 'browser'],
      [17, 'bash', '## Setup › 1. First.', undefined],
    ]);
    expect(blocks[2]!.marker!.args).toEqual(['URL', 'bob', 'pw', 'CODE']);
    expect(segments(blocks[3]!).map((s) => [s.kind, s.text])).toEqual([['server', 'echo hi   # in the first terminal'], ['shell', 'ls']]);
  });

  it('moves ports and offsets, in commands and expected output', () => {
    const r = { offset: 1000, backends: { 9000: 40001 } };
    expect(relocate('curl http://localhost:8281/token https://localhost:9443/x -- listen(9000) http://127.0.0.1:9000/api "expires_in":9000 iss=https%3A%2F%2Flocalhost%3A8243', r)).toBe(
      'curl http://localhost:9281/token https://localhost:10443/x -- listen(40001) http://127.0.0.1:40001/api "expires_in":9000 iss=https%3A%2F%2Flocalhost%3A9243',
    );
    expect(relocate('gatehouse start --port-offset 1; GATEHOUSE_PORT_OFFSET=2 x', r)).toBe('gatehouse start --port-offset 1001; GATEHOUSE_PORT_OFFSET=1002 x');
    const [json, arrow] = expectations('curl x   # {"a":"…","b":1}\n# → backend saw /api  (commentary)\n# a plain comment');
    expect(json!.test('{"a":"zz","b":1}')).toBe(true);
    expect(json!.test('{"a":"zz","b":2}')).toBe(false);
    expect(arrow!.source).toBe('backend saw \\/api');
  });

  it('reports every failing command of a block, also inside $(…) and pipelines, and keeps variables', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-readme-runner-'));
    const sh = new Shell(dir, dir, process.env);
    try {
      const ok = await sh.run('X=42; f() { echo "f $1"; }\nf "$X"');
      expect(ok).toEqual({ output: 'f 42\n', failures: [] });
      const bad = await sh.run('echo one\nY=$(exit 3)\nfalse | cat\necho two');
      expect(bad.output).toBe('one\ntwo\n');
      expect(bad.failures).toEqual(['2 exit 3: Y=$(exit 3)', '3 exit 1: cat']); // a pipeline is named by its last command
      expect(await sh.get('X')).toBe('42');
    } finally {
      sh.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('splits a synopsis line on | outside brackets', () => {
    expect(splitTopLevel('app list [--owner U] | show NAME (--a | --b) | delete NAME')).toEqual(['app list [--owner U]', 'show NAME (--a | --b)', 'delete NAME']);
  });
});
