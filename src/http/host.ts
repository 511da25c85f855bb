import type { IncomingMessage } from 'node:http';

/**
 * RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without a Host header. Node
 * does (an empty 400 of its own) unless told not to; the gateway and portal listeners tell it
 * not to and answer in the format of the path asked for, with these words.
 */
export const NO_HOST = 'The request has no Host header: HTTP/1.1 requires one (RFC 9112 §3.2).';

/** A request of HTTP/1.1 or later (what Node's parser takes: any 1.x from 1.1 on, "2.0" in a request line) without a Host header; HTTP/1.0 needs none. */
export const lacksHost = (req: IncomingMessage): boolean =>
  req.headers.host === undefined && (req.httpVersionMajor > 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1));

/** The server option that lets such a request reach the listener's own code. */
export const HOST_CHECKED_BY_US = { requireHostHeader: false } as const;
