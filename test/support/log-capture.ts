import { call } from './http.js';

export type LogLine = { level: number; msg: string; event?: string; [k: string]: unknown };

/** The JSON lines a real server's logger writes (createLogger's destination), parsed as they come. */
export class LogCapture {
  raw = '';
  readonly lines: LogLine[] = [];
  readonly write = (chunk: string): void => {
    this.raw += chunk;
    for (const l of chunk.split('\n')) if (l.startsWith('{')) this.lines.push(JSON.parse(l) as LogLine);
  };

  events(name: string): LogLine[] {
    return this.lines.filter((l) => l.event === name);
  }

  async waitFor(name: string, count = 1, ms = 10_000): Promise<LogLine[]> {
    const deadline = Date.now() + ms;
    while (this.events(name).length < count) {
      if (Date.now() > deadline) throw new Error(`no ${count} "${name}" line(s) within ${ms} ms; lines: ${this.raw.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.events(name);
  }
}

/** /metrics as a map of `name{labels}` → value (labels as Prometheus prints them). */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const r = await call(url, { headers });
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.text.slice(0, 200)}`);
  const out = new Map<string, number>();
  for (const line of r.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}
