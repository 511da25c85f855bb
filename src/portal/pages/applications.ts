import { html, type Html } from '../../http/html.js';
import { DEFAULT_APPLICATION_TIER, type ApplicationDetail, type ApplicationView, type KeyView } from '../../manage/index.js';
import type { KeyType } from '../../types.js';
import { attempt, isChecked, lines, pageOf, signedIn, text, type Kit, type PortalSettings } from '../kit.js';
import { actionButton, checkbox, copyable, csrfInput, field, formError, nextPageLink, select, type Errors, type View } from '../layout.js';

interface Values {
  name?: string | undefined;
  callbackUrls?: string | undefined;
  allowedOrigins?: string | undefined;
  tier?: string | undefined;
  description?: string | undefined;
}

const valuesOf = (a: ApplicationView): Values => ({
  name: a.name,
  callbackUrls: a.callbackUrls.join('\n'),
  allowedOrigins: a.allowedOrigins.join('\n'),
  tier: a.tier,
  description: a.description ?? '',
});

/** The fields of an application (create and edit). */
function applicationFields(v: Values, tiers: Array<[string, string]>, errors?: Errors): Html {
  return html`${field({ name: 'name', label: 'Name', value: v.name, required: true, errors })}
${field({ name: 'callbackUrls', label: 'Callback URLs (one per line)', value: v.callbackUrls, textarea: true, errors, hint: 'Where the authorization code flow may send users back: https, or http on a loopback host (127.0.0.1, [::1], localhost) for native apps.' })}
${select({ name: 'tier', label: 'Tier (the limit for all calls of the application)', options: tiers, value: v.tier ?? DEFAULT_APPLICATION_TIER, errors })}
${field({ name: 'description', label: 'Description', value: v.description, textarea: true, errors })}
${field({ name: 'allowedOrigins', label: 'Browser origins (CORS, one per line)', value: v.allowedOrigins, textarea: true, errors, hint: 'Single-page apps at these origins may call the token endpoints, e.g. https://app.example.com' })}`;
}

const input = (form: Record<string, unknown>) => ({
  name: text(form as never, 'name') ?? '',
  callbackUrls: lines(form as never, 'callbackUrls'),
  allowedOrigins: lines(form as never, 'allowedOrigins'),
  // none chosen: the service's default on create, unchanged on edit
  tier: text(form as never, 'tier'),
  description: text(form as never, 'description') ?? null,
});

/** The curl commands of the original page, working and filled in with this key's values. */
export function tokenCommands(s: PortalSettings, username: string, keyType: KeyType, basic: string): Html {
  const scope = keyType;
  return html`<h3>Get a user token (password grant)</h3>
${copyable('password grant command', `curl -k -d "grant_type=password&username=${username}&password=<password>&scope=${scope}" -H "Authorization: Basic ${basic}" ${s.httpsBase}/login`, `curl-password-${keyType}`)}
<h3>Renew it with the refresh token</h3>
${copyable('refresh command', `curl -k -d "grant_type=refresh_token&refresh_token=<refresh token>&scope=${scope}" -H "Authorization: Basic ${basic}" ${s.httpsBase}/login`, `curl-refresh-${keyType}`)}
<h3>Revoke a token</h3>
${copyable('revoke command', `curl -d "token=<access token>" -H "Authorization: Basic ${basic}" ${s.httpBase()}/revoke`, `curl-revoke-${keyType}`)}`;
}

/** A refused "Generate access token" form: which key's, its errors, and the validity as typed. */
interface TokenFormRefusal {
  keyType: string;
  errors: Errors;
  validity: string | undefined;
}

function keySection(kit: Kit, view: View, app: ApplicationDetail, keyType: KeyType, data: Record<string, unknown> | undefined, refused?: TokenFormRefusal): Html {
  // only the form that was sent is marked, and it keeps what was typed
  const mine = refused !== undefined && refused.keyType.toUpperCase() === keyType ? refused : undefined;
  const errors = mine?.errors;
  const key: KeyView | undefined = app.keys.find((k) => k.keyType === keyType);
  const base = `/store/applications/${app.id}/keys/${keyType}`;
  const issued = data?.keys as { consumerKey: string; consumerSecret?: string; keyType: string } | undefined;
  const token = data?.token as { accessToken: string; expiresIn: number; keyType: string } | undefined;
  const heading = html`<h2>${keyType === 'PRODUCTION' ? 'Production keys' : 'Sandbox keys'}</h2>`;
  if (!key) {
    return html`<div class="card">${heading}<p>No ${keyType} key yet.</p>
<form method="post" action="${base}">${csrfInput(view.csrf)}${checkbox({ name: 'public', label: 'A public client (a mobile or single-page app with PKCE: no secret)', id: `public-${keyType}` })}
<button type="submit">Generate keys</button></form></div>`;
  }
  const fresh = issued?.keyType === keyType ? issued : undefined;
  const basic = fresh?.consumerSecret !== undefined ? Buffer.from(`${fresh.consumerKey}:${fresh.consumerSecret}`).toString('base64') : '<base64 of consumer-key:consumer-secret>';
  return html`<div class="card">${heading}
<dl class="facts"><dt>Consumer Key</dt><dd>${copyable('Consumer Key', key.consumerKey, `ck-${keyType}`)}</dd>
${
  fresh?.consumerSecret !== undefined
    ? html`<dt>Consumer Secret</dt><dd><div class="secret" role="status">${copyable('Consumer Secret', fresh.consumerSecret, `cs-${keyType}`)}<p class="hint">Shown only now: copy it somewhere safe. The server keeps only its hash.</p></div></dd>
<dt>Authorization: Basic</dt><dd>${copyable('Basic credentials', basic, `basic-${keyType}`)}<p class="hint">The base64 of consumer-key:consumer-secret, for the <code>Authorization: Basic</code> header.</p></dd>`
    : html`<dt>Consumer Secret</dt><dd>${key.public ? 'none: a public client' : 'not shown again (regenerate it for a new one)'}</dd>`
}
<dt>Token validity</dt><dd>${key.validitySeconds === null ? 'the server default' : `${key.validitySeconds} s`}</dd></dl>
${!key.public ? actionButton(view, `${base}/secret`, 'Regenerate secret', { secondary: true }) : ''}
${tokenCommands(kit.settings, view.actor!.username, keyType, basic)}
${
  key.public
    ? ''
    : html`<h3>Generate access token</h3>
${
  token?.keyType === keyType
    ? html`<div class="secret" role="status">${copyable('Access Token', token.accessToken, `at-${keyType}`)}<p class="hint">An application token, valid for ${token.expiresIn} s; shown only now.</p></div>`
    : ''
}
<form method="post" action="${base}/token">${csrfInput(view.csrf)}
${field({ name: 'validitySeconds', label: 'Validity (seconds)', type: 'number', value: mine ? (mine.validity ?? '') : '3600', errors, id: `validity-${keyType}` })}
<button type="submit">Generate access token</button></form>`
}</div>`;
}

export function applicationPages(kit: Kit): void {
  const m = kit.m;

  const listPage = async (view: View, values: Values = {}, errors?: Errors, query: Record<string, string | undefined> = {}) => {
    const actor = signedIn(view);
    const apps = await m.applications.list(actor, { owner: actor.username }, pageOf(query));
    return kit.page(
      view,
      'My Applications',
      html`<div class="card"><h1>My Applications</h1>${
        apps.items.length === 0
          ? html`<p>No applications yet: create one below, then generate its keys.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">Application</th><th scope="col">Tier</th><th scope="col">Callback URLs</th></tr></thead><tbody>${apps.items.map(
              (a) => html`<tr><td data-label="Application"><a href="/store/applications/${a.id}">${a.name}</a></td><td data-label="Tier">${a.tier}</td><td data-label="Callback URLs">${a.callbackUrls.join(', ') || '—'}</td></tr>`,
            )}</tbody></table>${nextPageLink('/store/applications', apps.next)}`
      }</div>
<div class="card"><h2>Create an application</h2>${formError(errors, ['name', 'callbackUrls', 'tier', 'description', 'allowedOrigins'])}
<form method="post" action="/store/applications">${csrfInput(view.csrf)}${applicationFields(values, await kit.tierChoices(view), errors)}<button type="submit">Create application</button></form></div>`,
    );
  };

  kit.get('/store/applications', ({ view, query }) => listPage(view, {}, undefined, query));

  kit.post('/store/applications', async ({ view, form }) => {
    const actor = signedIn(view);
    const r = await attempt(() => m.applications.create(actor, input(form)));
    if (!r.ok) return { status: r.status, page: await listPage(view, { ...form, callbackUrls: text(form, 'callbackUrls'), allowedOrigins: text(form, 'allowedOrigins') } as Values, r.errors) };
    return { redirect: `/store/applications/${r.value.id}`, flash: { notice: `Application ${r.value.name} created. Generate its keys below.` } };
  });

  const detailPage = async (view: View, id: string, data?: Record<string, unknown>, edit?: { values: Values; errors: Errors }, tokenForm?: TokenFormRefusal) => {
    const actor = signedIn(view);
    const app = await m.applications.get(actor, id);
    return kit.page(
      view,
      app.name,
      html`<div class="card"><h1>${app.name}</h1><p class="muted">Owner ${app.owner} · tier ${app.tier}</p>
<p><a href="/store">Subscribe it to an API</a> · <a href="/store/subscriptions">My Subscriptions</a></p></div>
${keySection(kit, view, app, 'PRODUCTION', data, tokenForm)}${keySection(kit, view, app, 'SANDBOX', data, tokenForm)}
<div class="card"><h2>Edit</h2>${formError(edit?.errors, ['name', 'callbackUrls', 'tier', 'description', 'allowedOrigins'])}
<form method="post" action="/store/applications/${app.id}">${csrfInput(view.csrf)}${applicationFields(edit?.values ?? valuesOf(app), await kit.tierChoices(view), edit?.errors)}<button type="submit">Save changes</button></form></div>
<div class="card"><h2>Delete</h2><p>Deleting the application removes its keys and subscriptions; its tokens stop working at once.</p>
<a class="button secondary" href="/store/applications/${app.id}/delete">Delete application</a></div>`,
    );
  };

  kit.get('/store/applications/:applicationId', ({ view, params, flash }) => detailPage(view, params.applicationId!, flash.data));

  kit.post('/store/applications/:applicationId', async ({ view, params, form }) => {
    const actor = signedIn(view);
    const r = await attempt(() => m.applications.update(actor, params.applicationId!, input(form)));
    if (!r.ok) return { status: r.status, page: await detailPage(view, params.applicationId!, undefined, { values: { ...form, callbackUrls: text(form, 'callbackUrls'), allowedOrigins: text(form, 'allowedOrigins') } as Values, errors: r.errors }) };
    return { redirect: `/store/applications/${r.value.id}`, flash: { notice: 'Changes saved.' } };
  });

  kit.get('/store/applications/:applicationId/delete', async ({ view, params }) => {
    const app = await m.applications.get(signedIn(view), params.applicationId!);
    return kit.page(
      view,
      `Delete ${app.name}`,
      html`<div class="card"><h1>Delete ${app.name}?</h1><p>Its keys and subscriptions are removed and every token issued to it stops working at once. This cannot be undone.</p>
<div class="buttons"><form method="post" action="/store/applications/${app.id}/delete">${csrfInput(view.csrf)}<button type="submit" class="danger">Delete ${app.name}</button></form>
<a class="button secondary" href="/store/applications/${app.id}">Keep it</a></div></div>`,
    );
  });

  kit.post('/store/applications/:applicationId/delete', async ({ view, params }) => {
    const actor = signedIn(view);
    const app = await m.applications.get(actor, params.applicationId!);
    await m.applications.remove(actor, app.id);
    return { redirect: '/store/applications', flash: { notice: `Application ${app.name} deleted.` } };
  });

  kit.post('/store/applications/:applicationId/keys/:keyType', async ({ view, params, form }) => {
    const actor = signedIn(view);
    const keys = await m.keys.generate(actor, params.applicationId!, params.keyType!, { public: isChecked(form, 'public') });
    return { redirect: `/store/applications/${params.applicationId}`, flash: { notice: `${keys.keyType} keys generated.`, data: { keys } } };
  });

  kit.post('/store/applications/:applicationId/keys/:keyType/secret', async ({ view, params }) => {
    const actor = signedIn(view);
    const keys = await m.keys.regenerateSecret(actor, params.applicationId!, params.keyType!);
    return { redirect: `/store/applications/${params.applicationId}`, flash: { notice: `A new ${keys.keyType} consumer secret: the old one no longer works.`, data: { keys } } };
  });

  kit.post('/store/applications/:applicationId/keys/:keyType/token', async ({ view, params, form }) => {
    const actor = signedIn(view);
    const validity = text(form, 'validitySeconds');
    const r = await attempt(() => m.keys.issueAccessToken(actor, params.applicationId!, params.keyType!, validity));
    if (!r.ok) return { status: r.status, page: await detailPage(view, params.applicationId!, undefined, undefined, { keyType: params.keyType!, errors: r.errors, validity }) };
    return { redirect: `/store/applications/${params.applicationId}`, flash: { notice: 'Access token generated.', data: { token: r.value } } };
  });
}
