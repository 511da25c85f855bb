import type { Socket } from 'node:net';

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
}
