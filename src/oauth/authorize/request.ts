import { GatehouseError } from '../../errors.js';
import type { FormBody } from '../../http/form.js';
import type { Client } from '../../store/applications.js';
import { MAX_CLIENT_ID_LENGTH, type ClientLookup } from '../client-auth.js';
import { OAuthError, invalidRequest } from '../errors.js';
import { Params } from '../params.js';
import { checkChallenge } from '../pkce.js';
import { grantScope, parseScope } from '../scope.js';
import { resolveRedirectUri } from './redirect-uri.js';

/**
 * A request we must not redirect for (unknown client, bad redirect_uri), or any failure on the
 * sign-in pages: shown as a page of ours with a title and the public message.
 */
export class AuthorizePageError extends GatehouseError {
  override name = 'AuthorizePageError';
  constructor(
    readonly title: string,
    message: string,
    status = 400,
    opts: { detail?: string; cause?: unknown } = {},
  ) {
    super(status >= 500 ? 'internal' : status === 403 ? 'forbidden' : status === 413 ? 'too_large' : status === 429 ? 'rate_limited' : 'invalid', message, { ...opts, status });
  }

  /** Any error as the page a browser gets: ours as it is, the rest by kind. */
  static from(err: GatehouseError): AuthorizePageError {
    if (err instanceof AuthorizePageError) return err;
    const opts = { detail: err.detail, cause: err.cause ?? err };
    if (err.kind === 'internal') return new AuthorizePageError('Something went wrong', 'The server could not complete the request.', 500, opts);
    if (err.kind === 'unavailable') return new AuthorizePageError('Temporarily unavailable', err.message, 503, opts);
    return new AuthorizePageError('Invalid request', err.message, err.status, opts);
  }
}

/** A validated authorization request. */
export interface AuthorizationRequest {
  client: Client;
  redirectUri: string;
  redirectUriSent: boolean;
  scope: string[];
  state: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
}

/** Where to send the browser with an error once the redirect URI is known to be the client's. */
export interface ErrorRedirect {
  redirectUri: string;
  error: OAuthError;
  state: string | undefined;
}

export type Validation = { ok: true; request: AuthorizationRequest } | { ok: false; redirect: ErrorRedirect };

/** Longer state values are refused (invalid_request): they are stored and echoed in a URL. */
export const MAX_STATE_LENGTH = 2048;

const badRequest = (detail: string) => new AuthorizePageError('Invalid sign-in request', detail);

/**
 * Validates an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3) in the order §4.1.2.1
 * requires: first the client and its redirect URI (any problem there is a page of ours, never a
 * redirect: no open redirector), then everything else (reported to the client by redirect).
 */
export async function validateAuthorizationRequest(body: FormBody, clients: ClientLookup): Promise<Validation> {
  const params = new Params(body);
  const one = (name: string): string | undefined => {
    try {
      return params.get(name);
    } catch {
      throw badRequest(`The parameter ${name} is repeated.`);
    }
  };
  const clientId = one('client_id');
  if (clientId === undefined) throw badRequest('The request has no client_id.');
  const client = clientId.length <= MAX_CLIENT_ID_LENGTH && !clientId.includes('\u0000') ? await clients.findClient(clientId) : undefined;
  if (!client) throw badRequest('No application is registered with this client_id.');
  const resolved = resolveRedirectUri(one('redirect_uri'), client.callbackUrls);
  if (!resolved.ok) throw badRequest(resolved.reason);

  // From here on errors go back to the client. A state that cannot be echoed (repeated, too
  // long, with a NUL) is dropped from the error response.
  let state: string | undefined;
  try {
    state = params.get('state');
  } catch {
    state = undefined;
  }
  const stateProblem = state !== undefined && (state.length > MAX_STATE_LENGTH || state.includes('\u0000'));
  if (stateProblem) state = undefined;
  const redirectError = (error: OAuthError): Validation => ({ ok: false, redirect: { redirectUri: resolved.redirectUri, error, state } });
  try {
    params.assertNoNul();
    params.assertNoRepeats();
    if (stateProblem) throw invalidRequest(`state is longer than ${MAX_STATE_LENGTH} characters.`);
    const responseType = params.get('response_type');
    if (responseType === undefined) throw invalidRequest("missing parameter 'response_type'");
    if (responseType !== 'code') {
      throw new OAuthError('unsupported_response_type', 'This response_type is not supported; use code.');
    }
    const responseMode = params.get('response_mode');
    if (responseMode !== undefined && responseMode !== 'query') throw invalidRequest("Only response_mode 'query' is supported.");
    const scope = grantScope(parseScope(params.get('scope')), client);
    const codeChallenge = params.get('code_challenge');
    const codeChallengeMethod = params.get('code_challenge_method');
    switch (checkChallenge(codeChallenge, codeChallengeMethod)) {
      case 'method_without_challenge':
        throw invalidRequest('code_challenge_method was sent without a code_challenge.');
      case 'method_unsupported':
        throw invalidRequest('code_challenge_method must be S256 (plain is not accepted).');
      case 'challenge_malformed':
        throw invalidRequest('code_challenge must be the 43-character base64url SHA-256 of the code verifier.');
    }
    if (codeChallenge === undefined && client.secretHash === null) {
      throw invalidRequest('PKCE is required for this public client: send code_challenge and code_challenge_method=S256.');
    }
    return {
      ok: true,
      request: { client, redirectUri: resolved.redirectUri, redirectUriSent: resolved.sent, scope, state, codeChallenge, codeChallengeMethod },
    };
  } catch (err) {
    if (err instanceof OAuthError) return redirectError(err);
    throw err;
  }
}
