import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { frameworkProblem, isApiPath, sendProblem } from '../api/problem.js';
import { BAD_TARGET, writeFault } from '../gateway/faults.js';

/** How long a connection may linger after an error answer before it is destroyed. */
export const ERROR_LINGER_MS = 1000;

function destroy(socket: Socket): void {
  socket.destroy();
}

/**
 * Node's HTTP parser refuses some requests before any route runs, and by default answers
 * with an empty 400. The commonest case for our users is the header from the original WSO2
 * page, `Authorization :Basic …` (a space before the colon): explain it and the fix.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let status = 400;
  let body: Record<string, string>;
  if (err.code === 'HPE_INVALID_HEADER_TOKEN') {
    body = {
      error: 'invalid_request',
      error_description:
        "Malformed HTTP header: a header name may not contain spaces. Write 'Authorization: Basic <base64>' with no space before the colon " +
        "(curl -H 'Authorization: Basic <base64>'), and send Content-Type as its own header.",
    };
  } else if (err.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    body = { error: 'invalid_request', error_description: 'The request headers are too large.' };
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    body = { error: 'invalid_request', error_description: 'The request took too long to arrive.' };
  } else {
    body = { error: 'invalid_request', error_description: `Malformed HTTP request (${err.code ?? 'parse error'}).` };
  }
  const json = JSON.stringify(body);
  const reason = status === 400 ? 'Bad Request' : status === 431 ? 'Request Header Fields Too Large' : 'Request Timeout';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\n\r\n${json}`,
  );
  // end() only half-closes: a client that ignores our FIN and keeps sending would hold the
  // socket for ever (Node has already dropped a timed-out connection from its timeout checks,
  // and sockets have no idle timeout). Destroy it once the answer has had time to arrive.
  const t = setTimeout(destroy, ERROR_LINGER_MS, socket);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

/**
 * Fastify's own refusals before any route runs (`frameworkErrors`): a path that does not
 * percent-decode (`/api/v1/a%zz`) is answered like the gateway's other bad request targets
 * (400 900400 fault JSON) instead of fastify's body, which echoes the path.
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
 * The portal listener's pre-route refusals: under /api/v1 the admin API's format (RFC 9457
 * problem+json, like every other error it gives); the portal's pages as above.
 */
export function portalFrameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (isApiPath(request.url)) void sendProblem(reply, frameworkProblem(err));
  else frameworkErrors(err, request, reply);
}
