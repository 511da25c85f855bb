import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { frameworkProblem, problemOf, sendProblem } from '../api/problem.js';
import { GatehouseError } from '../errors.js';
import { lacksHost, NO_HOST } from '../http/host.js';
import { BAD_TARGET, GatewayFault, METHOD_NOT_ALLOWED, PROXIED_METHODS, writeFault } from '../gateway/faults.js';
import { ANONYMOUS, errorPage, PAGE_HEADERS } from '../portal/error-page.js';

/** How long a connection may linger after an error answer before it is destroyed. */
export const ERROR_LINGER_MS = 1000;

function destroy(socket: Socket): void {
  socket.destroy();
}

/** What a refusal of Node's HTTP parser says, in whichever format the listener and path write it. */
interface ParserRefusal {
  status: 400 | 405 | 408 | 431;
  message: string;
}

const REASONS = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as const;

/** Node's parser refusal: its code, its reason (llhttp's words) and the chunk it refused. */
type ParserError = Error & { code?: string; reason?: string; rawPacket?: unknown };

/** A header line whose name is followed by a space or tab before the colon (`Authorization :Basic …`). */
const SPACE_BEFORE_COLON = /\r?\n[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]+:/;

/**
 * The commonest case for our users is the header from the original WSO2 page,
 * `Authorization :Basic …` (a space before the colon): explain it and the fix. A header line
 * that starts with a space (obsolete line folding) and other bad header bytes get words of
 * their own.
 */
function parserRefusal(err: ParserError): ParserRefusal {
  if (err.code === 'HPE_INVALID_HEADER_TOKEN') {
    if (err.reason === 'Unexpected whitespace after header value') {
      return { status: 400, message: 'Malformed HTTP header: a header line may not start with a space or tab (obsolete line folding, RFC 9112 §5.2); send each header on one line.' };
    }
    const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1', 0, 16_384) : undefined;
    if (raw === undefined || SPACE_BEFORE_COLON.test(raw)) {
      return {
        status: 400,
        message:
          "Malformed HTTP header: a header name may not contain spaces. Write 'Authorization: Basic <base64>' with no space before the colon " +
          "(curl -H 'Authorization: Basic <base64>'), and send Content-Type as its own header.",
      };
    }
    return { status: 400, message: "Malformed HTTP header: a header name may contain only letters, digits and !#$%&'*+-.^_`|~, then a colon (RFC 9110 §5.1)." };
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return { status: 431, message: 'The request headers are too large.' };
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, message: 'The request took too long to arrive.' };
  return { status: 400, message: `Malformed HTTP request (${err.code ?? 'parse error'}).` };
}

/** Writes a whole answer on a socket no request object owns, then closes it. */
function answer(socket: Socket, status: ParserRefusal['status'], headers: Record<string, string>, body: string): void {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${REASONS[status]}\r\n${lines}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  // end() only half-closes: a client that ignores our FIN and keeps sending would hold the
  // socket for ever (Node has already dropped a timed-out connection from its timeout checks,
  // and sockets have no idle timeout). Destroy it once the answer has had time to arrive.
  const t = setTimeout(destroy, ERROR_LINGER_MS, socket);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

/** The start of a refused chunk's request line: its method (valid or not) and path (without the query). */
const REFUSED_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}) (\/[^\s?]{0,2047})/;

function requestLineOf(raw: unknown): { method: string; path: string } | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  const m = REFUSED_LINE.exec(raw.toString('latin1', 0, 2100));
  return m ? { method: m[1]!, path: m[2]! } : undefined;
}

/** Whether a gateway listener's request target is a published API's (not the token service's own routes). */
export type ApiTarget = (method: string, path: string) => boolean;

/** RFC 6749 JSON, as /token's own errors are. */
function answerOAuth(socket: Socket, r: ParserRefusal): void {
  answer(socket, r.status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', Pragma: 'no-cache' }, JSON.stringify({ error: 'invalid_request', error_description: r.message }));
}

/**
 * Node's HTTP parser refuses some requests before any route runs, and by default answers
 * with an empty 400. On the gateway listeners the answer is in the format of the path named
 * by the request line the refused chunk starts with: for a published API's path WSO2 fault
 * JSON (400 `900400`, as the gateway's other refusals of a request); for the token service's
 * own paths, and when the chunk starts with no request line (a header overflow noticed chunks
 * later, a timeout), RFC 6749 JSON. A request pipelined behind another in one chunk gets the
 * first one's format. The portal's listener notes every request's target to know it in those
 * cases too (trackRequestTargets); the gateway's does not, to keep a gateway call free of that
 * work per chunk.
 */
export function clientErrorHandler(isApiTarget: ApiTarget): (err: ParserError, socket: Socket) => void {
  return (err, socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const r = parserRefusal(err);
    const line = requestLineOf(err.rawPacket);
    if (line === undefined || !isApiTarget(line.method, line.path)) return answerOAuth(socket, r);
    const fault = new GatewayFault(r.status, r.status === 400 ? '900400' : String(r.status), REASONS[r.status], r.message);
    answer(socket, r.status, { 'Content-Type': 'application/json; charset=utf-8' }, fault.body.toString('utf8'));
  };
}

/** The metrics listener's answers, plain text as its 401 is: `<status> <reason>: <words>`. */
const textBody = (status: number, reason: string, message: string): string => `${status} ${reason}: ${message}\n`;

/** The metrics listener's parser refusals, in its plain text. */
export function textClientErrorHandler(err: ParserError, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const r = parserRefusal(err);
  answer(socket, r.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }, textBody(r.status, REASONS[r.status], r.message));
}

/** The metrics listener's reply in its plain text. */
function sendText(reply: FastifyReply, status: number, message: string) {
  return reply.code(status).headers({ 'cache-control': 'no-store' }).type('text/plain; charset=utf-8').send(textBody(status, STATUS_CODES[status] ?? 'Error', message));
}

/** The metrics listener's pre-route refusals (a path that does not percent-decode), in its plain text, never the path. */
export function textFrameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendText(reply, err.statusCode ?? 400, 'The request URL cannot be served.');
}

/** The metrics listener's 404 for anything but its one route, and its other errors (a body it will not read), in its plain text. */
export function textAnswers(app: FastifyInstance, served: string): void {
  app.setNotFoundHandler((_request, reply) => sendText(reply, 404, `this listener serves ${served} only`));
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) reply.log.error({ err }, 'metrics listener error');
    return sendText(reply, status, status === 500 ? 'the metrics could not be read' : `this listener serves ${served} only`);
  });
}

/** What a CONNECT gets: Gatehouse is no forward proxy, and no listener opens tunnels. */
export const NO_CONNECT = 'CONNECT is not served: Gatehouse opens no tunnels (it is not a forward proxy).';

/**
 * Node hands a CONNECT request to the server's 'connect' event, not to the request handler, and
 * closes the socket with no answer when nothing listens. Every listener answers it 405 in its
 * format: on a gateway listener WSO2's fault for a published API's path, RFC 6749 JSON
 * elsewhere (an authority-form target, the token service's paths); on the portal's
 * problem+json under /api and the HTML page elsewhere; on the metrics listener plain text.
 */
export function answerConnect(server: Server, format: 'gateway' | 'portal' | 'text', isApiTarget: ApiTarget = () => false): void {
  server.on('connect', (req: { url?: string }, socket: Socket) => {
    // Node takes its own error listener off a socket it hands over: a reset would be uncaught
    socket.on('error', () => socket.destroy());
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const url = req.url ?? '';
    const path = url.split('?', 1)[0]!;
    const allow = { Allow: [...PROXIED_METHODS].join(', ') };
    if (format === 'text') return answer(socket, 405, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...allow }, textBody(405, REASONS[405], NO_CONNECT));
    if (format === 'portal') return answerPortal(socket, { status: 405, message: NO_CONNECT }, url);
    if (path.startsWith('/') && isApiTarget('CONNECT', path)) {
      return answer(socket, 405, { 'Content-Type': 'application/json; charset=utf-8', ...allow }, METHOD_NOT_ALLOWED.body.toString('utf8'));
    }
    answerOAuth(socket, { status: 405, message: NO_CONNECT });
  });
}

/** The token service's 400 for an HTTP/1.1 request without Host (the gateway's is its NO_HOST fault). */
export function writeNoHostOAuth(res: ServerResponse): void {
  const body = JSON.stringify({ error: 'invalid_request', error_description: NO_HOST });
  res.writeHead(400, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** Whether a request target on the portal listener is the admin API's (/api, /api/v1/…, /api/docs): problem+json, not a page. */
export const isPortalApiTarget = (url: string): boolean => url === '/api' || url.startsWith('/api/') || url.startsWith('/api?');

const kTarget = Symbol('gatehouse.requestTarget');
type TrackedSocket = Socket & { [kTarget]?: string };
/** The start of a request line: method, then the first characters of the target (all a format choice needs). */
const REQUEST_LINE = /^[A-Z]{3,16} (\S{0,32})/;

/** Bound to the socket: a chunk that starts a request names its target. */
function noteTarget(this: TrackedSocket, chunk: Buffer | string): void {
  const first = typeof chunk === 'string' ? chunk.charCodeAt(0) : chunk[0];
  if (first === undefined || first < 0x41 || first > 0x5a) return;
  const m = REQUEST_LINE.exec(typeof chunk === 'string' ? chunk.slice(0, 64) : chunk.toString('latin1', 0, 64));
  if (m) this[kTarget] = m[1];
}

/**
 * The portal listener answers a parser refusal in the format of the path asked for, which
 * Node does not pass to the handler (a header overflow is noticed chunks after the request
 * line). So each connection notes the target of the request it is reading: every chunk that
 * starts with a request line (a client sends each request from its first byte). Listening
 * before Node's own parser does, so the chunk that fails is noted first.
 */
export function trackRequestTargets(server: Server, tls: boolean): void {
  server.on(tls ? 'secureConnection' : 'connection', (socket: TrackedSocket) => {
    socket.prependListener('data', noteTarget);
  });
}

/**
 * The portal listener's parser refusals: under /api RFC 9457 problem+json, like every other
 * error of the admin API; anywhere else the portal's HTML error page. The target comes from
 * trackRequestTargets; a connection whose request line was never seen gets the page.
 */
export function portalClientErrorHandler(err: ParserError, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  answerPortal(socket, parserRefusal(err), (socket as TrackedSocket)[kTarget]);
}

/** A portal listener's answer on a bare socket: problem+json for a target under /api, else the HTML error page. */
function answerPortal(socket: Socket, r: ParserRefusal, target: string | undefined): void {
  if (target !== undefined && isPortalApiTarget(target)) {
    const problem = problemOf(new GatehouseError('invalid', r.message, { status: r.status }));
    answer(socket, r.status, { 'Content-Type': 'application/problem+json; charset=utf-8', 'Cache-Control': 'no-store' }, JSON.stringify(problem));
    return;
  }
  const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8' };
  for (const [k, v] of Object.entries(PAGE_HEADERS)) headers[k] = v;
  answer(socket, r.status, headers, errorPage(ANONYMOUS, r.status, r.message));
}

/**
 * Fastify's own refusals before any route runs (`frameworkErrors`) on the gateway listeners:
 * a path that does not percent-decode (`/api/v1/a%zz`) is answered like the gateway's other
 * bad request targets (400 900400 fault JSON) instead of fastify's body, which echoes the path.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') {
    reply.hijack();
    writeFault(request.raw, reply.raw, BAD_TARGET);
    return;
  }
  // the others (a too long path parameter, a failed route constraint): fixed text, never the path
  void reply.code(err.statusCode ?? 400).send({ error: 'invalid_request', error_description: 'The request URL cannot be served.' });
}

/**
 * The portal listener's pre-route refusals (a path that does not percent-decode, a path
 * parameter over 255 characters): under /api the admin API's format (RFC 9457 problem+json,
 * like every other error it gives); anywhere else the portal's HTML error page. The same
 * fixed words either way, never the path.
 */
export function portalFrameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const e = frameworkProblem(err);
  if (isPortalApiTarget(request.url)) {
    void sendProblem(reply, e);
    return;
  }
  void reply.code(e.status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(errorPage(ANONYMOUS, e.status, e.message));
}

/**
 * A listener's 400 for an HTTP/1.1 request without Host (its server lets such requests
 * through): on the portal's, problem+json under /api and the HTML error page elsewhere; on the
 * metrics listener's, plain text like its other answers (textClientErrorHandler, …).
 */
export function rejectWithoutHost(app: FastifyInstance, format: 'portal' | 'text'): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!lacksHost(request.raw)) return;
    reply.header('connection', 'close');
    if (format === 'text') return sendText(reply, 400, NO_HOST);
    if (isPortalApiTarget(request.url)) return sendProblem(reply, new GatehouseError('invalid', NO_HOST, { status: 400 }));
    return reply.code(400).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(errorPage(ANONYMOUS, 400, NO_HOST));
  });
}
