import { html } from '../../http/html.js';
import { mayRemove, type ApiView, type Management, type SubscriptionView, type Actor } from '../../manage/index.js';
import { attempt, everyPage, pageOf, signedIn, text, type Kit } from '../kit.js';
import { actionButton, badge, copyable, csrfInput, field, formError, nextPageLink, select, statusBadge, type Errors, type View } from '../layout.js';
import { clearSessionCookie, setSessionCookie } from '../session.js';
import { tryItForm, tryItResult, tryItValues, runTryIt, type TryItValues } from '../try-it.js';

/** A relative path on this portal to come back to after sign-in; anything else is the Store. */
function safeNext(raw: string | undefined): string {
  return raw !== undefined && /^\/(?!\/)[A-Za-z0-9/_\-.~%?=&]*$/.test(raw) && !raw.startsWith('/store/sign') ? raw : '/store';
}

/** Every API the actor can see (all pages). */
const allApis = (m: Management, actor: Actor): Promise<ApiView[]> => everyPage((page) => m.apis.list(actor, page));

/** The anonymous visitor's view of the catalogue: published APIs only. */
const VISITOR: Actor = { username: '', role: 'subscriber', kind: 'user', via: 'portal' };

export function storePages(kit: Kit): void {
  const m = kit.m;
  const settings = kit.settings;

  kit.get('/store', async ({ view }) => {
    const apis = (await allApis(m, view.actor ?? VISITOR)).filter((a) => a.status === 'PUBLISHED');
    const intro = view.actor
      ? html`<p>Pick an API, subscribe one of your applications to it, generate keys, and call it.</p>`
      : html`<p>Sign in to subscribe to these APIs and get keys.${settings.selfSignUp ? html` No account yet? <a href="/store/signup">Sign up</a>.` : ''}</p>
<p><a class="button" href="/store/signin">Sign in</a>${settings.selfSignUp ? html` <a class="button secondary" href="/store/signup">Sign up</a>` : ''}</p>`;
    return kit.page(
      view,
      'APIs',
      html`<div class="card"><h1>APIs</h1>${intro}</div>
<div class="card"><h2>Published APIs</h2>${
        apis.length === 0
          ? html`<p>No API is published yet.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">API</th><th scope="col">Context</th><th scope="col">Tiers</th><th scope="col">Endpoints</th></tr></thead><tbody>${apis.map(
              (a) => html`<tr><td data-label="API"><a href="/store/apis/${a.id}">${a.name} ${a.version}</a>${a.description ? html`<p class="muted">${a.description}</p>` : ''}</td>
<td data-label="Context"><code>${a.context}/${a.version}</code></td><td data-label="Tiers">${a.tiers.join(', ')}</td>
<td data-label="Endpoints">Production${a.sandboxUrl ? ', Sandbox' : ''}</td></tr>`,
            )}</tbody></table>`
      }</div>`,
    );
  });

  // ---------------------------------------------------------------- sign in, sign up, sign out

  const signInPage = (view: View, next: string, values: { username?: string }, failed: boolean) =>
    kit.page(
      view,
      'Sign in',
      html`<div class="card"><h1>Sign in</h1>
${failed ? html`<p class="alert" role="alert" id="signin-error">Invalid username or password, or the account is locked.</p>` : ''}
<form method="post" action="/store/signin">${csrfInput(view.csrf)}<input type="hidden" name="next" value="${next}">
${field({ name: 'username', label: 'Username', value: values.username, required: true, autocomplete: 'username', ...(failed ? { errors: { username: '' }, describedBy: 'signin-error' } : {}) })}
${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'current-password' })}
<button type="submit">Sign in</button></form>
${settings.selfSignUp ? html`<p class="muted">No account? <a href="/store/signup">Sign up</a></p>` : ''}</div>`,
    );

  kit.get('/store/signin', ({ view, query }) => (view.actor ? { redirect: safeNext(query.next) } : signInPage(view, safeNext(query.next), {}, false)));

  kit.post('/store/signin', async ({ request, reply, form, view }) => {
    const next = safeNext(text(form, 'next'));
    const username = text(form, 'username');
    const password = text(form, 'password');
    const r = username && password ? await attempt(() => m.portalSessions.start(username, password, { via: 'portal', address: request.ip })) : undefined;
    if (!r || !r.ok) return { status: r?.status ?? 400, page: signInPage(view, next, { ...(username ? { username } : {}) }, true) };
    setSessionCookie(reply, r.value.token);
    request.portal = { signIn: r.value, token: r.value.token, csrf: r.value.csrfToken };
    return { redirect: next };
  });

  const signUpPage = (view: View, values: { username?: string }, errors?: Errors) =>
    kit.page(
      view,
      'Sign up',
      html`<div class="card"><h1>Create your account</h1>
<p>An account lets you create applications, subscribe them to APIs and get their keys.</p>
${formError(errors, ['username', 'password'])}
<form method="post" action="/store/signup">${csrfInput(view.csrf)}
${field({ name: 'username', label: 'Username', value: values.username, required: true, autocomplete: 'username', hint: 'Letters, digits and . _ @ + -', errors })}
${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password', hint: 'At least 8 characters; a few words make a good one.', errors })}
<button type="submit">Sign up</button></form>
<p class="muted">Already have an account? <a href="/store/signin">Sign in</a></p></div>`,
    );

  kit.get('/store/signup', ({ view }) => {
    if (!settings.selfSignUp) return closedSignUp(view);
    return view.actor ? { redirect: '/store' } : signUpPage(view, {});
  });

  kit.post('/store/signup', async ({ request, reply, form, view }) => {
    const username = text(form, 'username') ?? '';
    const password = text(form, 'password') ?? '';
    const r = await attempt(() => m.portalSessions.signUp(username, password, { via: 'portal', address: request.ip }));
    if (!r.ok) return { status: r.status, page: settings.selfSignUp ? signUpPage(view, { username }, r.errors) : closedSignUp(view), ...(r.retryAfter !== undefined ? { retryAfter: r.retryAfter } : {}) };
    setSessionCookie(reply, r.value.token);
    request.portal = { signIn: r.value, token: r.value.token, csrf: r.value.csrfToken };
    return { redirect: '/store/applications', flash: { notice: `Welcome, ${r.value.actor.username}. Create an application to get keys.` } };
  });

  const closedSignUp = (view: View) => kit.page(view, 'Sign up', html`<div class="card"><h1>Sign-up is closed</h1><p>Ask an administrator of this server for an account.</p></div>`);

  kit.post('/store/signout', async ({ request, reply }) => {
    const state = request.portal!;
    if (state.signIn) await m.portalSessions.end(state.signIn.sessionId);
    clearSessionCookie(reply);
    return { redirect: '/store' };
  });

  // ---------------------------------------------------------------- an API's page

  kit.get('/store/apis/:apiId', async ({ view, params, flash }) => {
    const api = await m.apis.get(view.actor ?? VISITOR, params.apiId!);
    return apiPage(kit, view, api, flash.data);
  });

  kit.post('/store/apis/:apiId/subscribe', async ({ view, params, form }) => {
    const actor = signedIn(view);
    const api = await m.apis.get(actor, params.apiId!);
    const r = await attempt(() => m.subscriptions.create(actor, { applicationId: text(form, 'applicationId') ?? '', apiId: api.id, ...(text(form, 'tier') !== undefined ? { tier: text(form, 'tier') } : {}) }));
    if (!r.ok) return { status: r.status, page: await apiPage(kit, view, api, undefined, { subscribe: r.errors }) };
    return { redirect: `/store/apis/${api.id}`, flash: { notice: `${r.value.applicationName} is subscribed to ${api.name} ${api.version} (tier ${r.value.tier}).` } };
  });

  kit.post('/store/apis/:apiId/try', async ({ request, view, params, form, browserGone }) => {
    const actor = signedIn(view);
    const api = await m.apis.get(actor, params.apiId!);
    const r = await attempt(() => runTryIt(m, settings, actor, api, form, { browserGone, log: request.log }));
    const sent = tryItValues(form);
    if (!r.ok) return { status: r.status, page: await apiPage(kit, view, api, { tryItSent: sent }, { tryIt: r.errors }) };
    return { redirect: `/store/apis/${api.id}#try-result`, flash: { data: { tryIt: r.value, tryItSent: sent } } };
  });

  // ---------------------------------------------------------------- my subscriptions

  kit.get('/store/subscriptions', async ({ view, query }) => {
    const actor = signedIn(view);
    const subs = await m.subscriptions.list(actor, {}, pageOf(query));
    return kit.page(
      view,
      'My Subscriptions',
      html`<div class="card"><h1>My Subscriptions</h1>${
        subs.items.length === 0
          ? html`<p>No subscriptions yet. Open an <a href="/store">API</a> and subscribe one of your applications to it.</p>`
          : html`${subscriptionTable(view, subs.items)}${nextPageLink('/store/subscriptions', subs.next)}`
      }</div>`,
    );
  });

  kit.post('/store/subscriptions/:subscriptionId/delete', async ({ view, params }) => {
    const actor = signedIn(view);
    const sub = await m.subscriptions.get(actor, params.subscriptionId!);
    await m.subscriptions.remove(actor, sub.id);
    return { redirect: '/store/subscriptions', flash: { notice: `${sub.applicationName} is no longer subscribed to ${sub.apiName} ${sub.apiVersion}.` } };
  });
}

function subscriptionTable(view: View, subs: SubscriptionView[]) {
  return html`<table class="stack"><thead><tr><th scope="col">Application</th><th scope="col">API</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col"><span class="skip">Actions</span></th></tr></thead><tbody>${subs.map(
    (s) => html`<tr><td data-label="Application"><a href="/store/applications/${s.applicationId}">${s.applicationName}</a></td>
<td data-label="API"><a href="/store/apis/${s.apiId}">${s.apiName} ${s.apiVersion}</a></td><td data-label="Tier">${s.tier}</td>
<td data-label="Status">${statusBadge(s.status)}${s.status === 'BLOCKED' ? html` <span class="muted">Calls get 403 until a publisher unblocks it.</span>` : ''}</td>
<td>${!view.actor || !mayRemove(view.actor, s) ? '' : actionButton(view, `/store/subscriptions/${s.id}/delete`, `Unsubscribe ${s.applicationName} from ${s.apiName}`, { secondary: true })}</td></tr>`,
  )}</tbody></table>`;
}

/** An API's page: what it is, how to call it, subscribing, and Try it. */
async function apiPage(kit: Kit, view: View, api: ApiView, data: Record<string, unknown> | undefined, errors: { subscribe?: Errors; tryIt?: Errors } = {}): Promise<string> {
  const m = kit.m;
  const gateway = `${kit.settings.httpsBase}${api.context}/${api.version}`;
  // each tier with its limit, also for a visitor ("Gold: 5000 requests per minute")
  const labels = await kit.tierLabels(view.actor ?? VISITOR);
  const withLimit = (tier: string) => labels.get(tier) ?? tier;
  let mine = html`<p><a href="/store/signin?next=${encodeURIComponent(`/store/apis/${api.id}`)}">Sign in</a> to subscribe to this API.</p>`;
  let tryIt = html``;
  if (view.actor) {
    const actor = view.actor;
    // all of them: the first page of a user's subscriptions need not hold this API's
    const apps = await everyPage((page) => m.applications.list(actor, {}, page));
    const subs = (await everyPage((page) => m.subscriptions.list(actor, {}, page))).filter((s) => s.apiId === api.id);
    const subscribed = new Set(subs.map((s) => s.applicationId));
    const free = apps.filter((a) => !subscribed.has(a.id));
    mine = html`${subs.length > 0 ? html`<h3>Subscribed</h3><ul>${subs.map((s) => html`<li>${s.applicationName} (tier ${s.tier}) ${statusBadge(s.status)}</li>`)}</ul>` : ''}
${
  free.length === 0
    ? apps.length === 0
      ? html`<p>Create an <a href="/store/applications">application</a> first, then subscribe it here.</p>`
      : ''
    : html`<form method="post" action="/store/apis/${api.id}/subscribe">${csrfInput(view.csrf)}
${formError(errors.subscribe, ['applicationId', 'tier'])}
${select({ name: 'applicationId', label: 'Application', options: free.map((a) => [a.id, a.name]), errors: errors.subscribe })}
${select({ name: 'tier', label: 'Tier', options: api.tiers.map((t) => [t, withLimit(t)]), errors: errors.subscribe })}
<button type="submit">Subscribe</button></form>`
}`;
    const usable = apps.filter((a) => subs.some((s) => s.applicationId === a.id && s.status === 'ACTIVE'));
    if (usable.length > 0) tryIt = html`<div class="card" id="try"><h2>Try it</h2>${tryItForm(view, api, usable, errors.tryIt, (data?.tryItSent as TryItValues | undefined) ?? {})}${tryItResult(data)}</div>`;
  }
  return kit.page(
    view,
    `${api.name} ${api.version}`,
    html`<div class="card"><h1>${api.name} ${api.version}</h1>
${api.description ? html`<p>${api.description}</p>` : ''}
<dl class="facts"><dt>Context</dt><dd><code>${api.context}/${api.version}</code></dd>
<dt>Tiers</dt><dd>${api.tiers.map((t) => html`<div>${withLimit(t)}</div>`)}</dd>
<dt>Production</dt><dd>${badge('available', 'ok')} with a PRODUCTION key</dd>
<dt>Sandbox</dt><dd>${api.sandboxUrl ? html`${badge('available', 'ok')} with a SANDBOX key` : badge('not available', 'warn')}</dd>
${api.status !== 'PUBLISHED' ? html`<dt>Status</dt><dd>${statusBadge(api.status)}</dd>` : ''}</dl>
<h2>Call it</h2>
<p>With an access token of a subscribed application:</p>
${copyable('curl command', `curl -k -H "Authorization: Bearer <access token>" ${gateway}/`, 'api-curl')}
</div>
<div class="card"><h2>Subscribe</h2>${mine}</div>${tryIt}`,
  );
}
