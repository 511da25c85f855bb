import { html, type Html } from '../../http/html.js';
import { hasRole, type ApiView } from '../../manage/index.js';
import { Forbidden } from '../../errors.js';
import type { FormBody } from '../../http/form.js';
import { attempt, isChecked, pageOf, signedIn, text, type Kit } from '../kit.js';
import { actionButton, checkbox, csrfInput, field, formError, nextPageLink, statusBadge, type Errors, type View } from '../layout.js';

interface Values {
  name?: string | undefined;
  context?: string | undefined;
  version?: string | undefined;
  productionUrl?: string | undefined;
  sandboxUrl?: string | undefined;
  tiers?: string[] | undefined;
  timeoutMs?: string | undefined;
  jwt?: boolean | undefined;
  description?: string | undefined;
}

const valuesOf = (a: ApiView): Values => ({
  name: a.name,
  context: a.context,
  version: a.version,
  productionUrl: a.productionUrl,
  sandboxUrl: a.sandboxUrl ?? '',
  tiers: a.tiers,
  timeoutMs: a.timeoutMs === null ? '' : String(a.timeoutMs),
  jwt: a.jwt,
  description: a.description ?? '',
});

const formValues = (form: FormBody): Values => ({
  name: text(form, 'name'),
  context: text(form, 'context'),
  version: text(form, 'version'),
  productionUrl: text(form, 'productionUrl'),
  sandboxUrl: text(form, 'sandboxUrl'),
  tiers: tiersOf(form),
  timeoutMs: text(form, 'timeoutMs'),
  jwt: isChecked(form, 'jwt'),
  description: text(form, 'description'),
});

function tiersOf(form: FormBody): string[] {
  const v = form.tiers;
  return Array.isArray(v) ? v : typeof v === 'string' && v !== '' ? [v] : [];
}

/** What the service gets from the API form: empty optional fields mean "none". */
function apiInput(v: Values) {
  const timeout = v.timeoutMs === undefined ? null : v.timeoutMs;
  return {
    name: v.name ?? '',
    context: v.context ?? '',
    version: v.version ?? '',
    productionUrl: v.productionUrl ?? '',
    sandboxUrl: v.sandboxUrl ?? null,
    tiers: v.tiers ?? [],
    timeoutMs: timeout,
    jwt: v.jwt ?? false,
    description: v.description ?? null,
  };
}

function apiFields(v: Values, tiers: Array<[string, string]>, errors?: Errors): Html {
  const chosen = new Set(v.tiers ?? []);
  return html`<div class="grid"><div>${field({ name: 'name', label: 'Name', value: v.name, required: true, errors })}</div>
<div>${field({ name: 'version', label: 'Version', value: v.version, required: true, errors, hint: 'e.g. v1' })}</div></div>
${field({ name: 'context', label: 'Context', value: v.context, required: true, errors, hint: 'The path it is served at, e.g. /weather: calls go to /weather/v1/…' })}
${field({ name: 'description', label: 'Description', value: v.description, textarea: true, errors })}
${field({ name: 'productionUrl', label: 'Production URL', type: 'url', value: v.productionUrl, required: true, errors, hint: 'The backend PRODUCTION keys call, e.g. http://backend.internal:8080/api' })}
${field({ name: 'sandboxUrl', label: 'Sandbox URL (optional)', type: 'url', value: v.sandboxUrl, errors, hint: 'The backend SANDBOX keys call; without one, sandbox keys get 403.' })}
<fieldset id="f-tiers"${errors?.tiers ? html` aria-describedby="f-tiers-error" aria-invalid="true"` : ''}><legend>Tiers subscribers may choose</legend>${tiers.map(([t, label]) => checkbox({ name: 'tiers', value: t, label, checked: chosen.has(t), id: `tier-${t}` }))}
${errors?.tiers ? html`<p class="field-error" id="f-tiers-error">${errors.tiers}</p>` : ''}</fieldset>
${field({ name: 'timeoutMs', label: 'Backend timeout (ms, optional)', type: 'number', value: v.timeoutMs, errors, hint: 'Empty: the gateway default.' })}
${checkbox({ name: 'jwt', label: 'Pass the backend an X-JWT-Assertion describing the caller', checked: v.jwt ?? false })}`;
}

const FIELDS = ['name', 'context', 'version', 'productionUrl', 'sandboxUrl', 'tiers', 'timeoutMs', 'description'];

export function publisherPages(kit: Kit): void {
  const m = kit.m;
  const publisher = (view: View) => {
    const actor = signedIn(view);
    if (!hasRole(actor, 'publisher')) throw new Forbidden('The Publisher is for publishers and admins.');
    return actor;
  };

  const listPage = async (view: View, given?: Values, errors?: Errors, query: Record<string, string | undefined> = {}) => {
    const tiers = await kit.tierChoices(view);
    const values = given ?? { tiers: tiers.map(([t]) => t) };
    const actor = publisher(view);
    const apis = await m.apis.list(actor, pageOf(query));
    return kit.page(
      view,
      'Publisher',
      html`<div class="card"><h1>Publisher</h1>${
        apis.items.length === 0
          ? html`<p>No APIs yet: create one below.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">API</th><th scope="col">Context</th><th scope="col">Status</th><th scope="col">Tiers</th></tr></thead><tbody>${apis.items.map(
              (a) => html`<tr><td data-label="API"><a href="/publisher/apis/${a.id}">${a.name} ${a.version}</a></td><td data-label="Context"><code>${a.context}/${a.version}</code></td>
<td data-label="Status">${statusBadge(a.status)}</td><td data-label="Tiers">${a.tiers.join(', ')}</td></tr>`,
            )}</tbody></table>${nextPageLink('/publisher', apis.next)}`
      }</div>
<div class="card"><h2>Create an API</h2>${formError(errors, FIELDS)}<form method="post" action="/publisher/apis">${csrfInput(view.csrf)}${apiFields(values, tiers, errors)}
<button type="submit">Create API</button></form></div>`,
    );
  };

  kit.get('/publisher', ({ view, query }) => listPage(view, undefined, undefined, query));

  kit.post('/publisher/apis', async ({ view, form }) => {
    const actor = publisher(view);
    const values = formValues(form);
    const r = await attempt(() => m.apis.create(actor, apiInput(values)));
    if (!r.ok) return { status: r.status, page: await listPage(view, values, r.errors) };
    return { redirect: `/publisher/apis/${r.value.id}`, flash: { notice: `API ${r.value.name} ${r.value.version} created. Publish it to make it callable.` } };
  });

  const detailPage = async (view: View, id: string, edit?: { values: Values; errors: Errors }, query: Record<string, string | undefined> = {}) => {
    const actor = publisher(view);
    const api = await m.apis.get(actor, id);
    const subs = await m.subscriptions.list(actor, { apiId: api.id }, pageOf(query));
    const base = `/publisher/apis/${api.id}`;
    return kit.page(
      view,
      `${api.name} ${api.version}`,
      html`<div class="card"><h1>${api.name} ${api.version} ${statusBadge(api.status)}</h1>
<p>Served at <code>${kit.settings.httpsBase}${api.context}/${api.version}/</code></p>
<div class="buttons">${api.status !== 'PUBLISHED' ? actionButton(view, `${base}/publish`, 'Publish') : ''}${api.status === 'PUBLISHED' ? actionButton(view, `${base}/retire`, 'Retire', { secondary: true }) : ''}
<a class="button secondary small" href="${base}/delete">Delete</a></div></div>
<div class="card"><h2>Subscribers</h2>${
        subs.items.length === 0
          ? html`<p>No application is subscribed yet.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">Application</th><th scope="col">Owner</th><th scope="col">Tier</th><th scope="col">Status</th><th scope="col"><span class="skip">Actions</span></th></tr></thead><tbody>${subs.items.map(
              (s) => html`<tr><td data-label="Application">${s.applicationName}</td><td data-label="Owner">${s.owner}</td><td data-label="Tier">${s.tier}</td><td data-label="Status">${statusBadge(s.status)}</td>
<td>${s.status === 'ACTIVE' ? actionButton(view, `/publisher/subscriptions/${s.id}/block`, `Block ${s.applicationName}`, { danger: true, fields: { back: api.id } }) : actionButton(view, `/publisher/subscriptions/${s.id}/unblock`, `Unblock ${s.applicationName}`, { fields: { back: api.id } })}</td></tr>`,
            )}</tbody></table>${nextPageLink(base, subs.next)}`
      }</div>
<div class="card"><h2>Edit</h2>${formError(edit?.errors, FIELDS)}<form method="post" action="${base}">${csrfInput(view.csrf)}${apiFields(edit?.values ?? valuesOf(api), await kit.tierChoices(view), edit?.errors)}
<button type="submit">Save changes</button></form></div>`,
    );
  };

  kit.get('/publisher/apis/:apiId', ({ view, params, query }) => detailPage(view, params.apiId!, undefined, query));

  kit.post('/publisher/apis/:apiId', async ({ view, params, form }) => {
    const actor = publisher(view);
    const values = formValues(form);
    const r = await attempt(() => m.apis.update(actor, params.apiId!, apiInput(values)));
    if (!r.ok) return { status: r.status, page: await detailPage(view, params.apiId!, { values, errors: r.errors }) };
    return { redirect: `/publisher/apis/${r.value.id}`, flash: { notice: 'Changes saved.' } };
  });

  for (const verb of ['publish', 'retire'] as const) {
    kit.post(`/publisher/apis/:apiId/${verb}`, async ({ view, params }) => {
      const actor = publisher(view);
      const api = verb === 'publish' ? await m.apis.publish(actor, params.apiId!) : await m.apis.retire(actor, params.apiId!);
      return { redirect: `/publisher/apis/${api.id}`, flash: { notice: `${api.name} ${api.version} is ${api.status === 'PUBLISHED' ? 'published: calls are served now' : 'retired: calls get 404 now'}.` } };
    });
  }

  kit.get('/publisher/apis/:apiId/delete', async ({ view, params }) => {
    const api = await m.apis.get(publisher(view), params.apiId!);
    return kit.page(
      view,
      `Delete ${api.name}`,
      html`<div class="card"><h1>Delete ${api.name} ${api.version}?</h1><p>Only an API nothing subscribes to can be deleted. This cannot be undone.</p>
<div class="buttons"><form method="post" action="/publisher/apis/${api.id}/delete">${csrfInput(view.csrf)}<button type="submit" class="danger">Delete ${api.name} ${api.version}</button></form>
<a class="button secondary" href="/publisher/apis/${api.id}">Keep it</a></div></div>`,
    );
  });

  kit.post('/publisher/apis/:apiId/delete', async ({ view, params }) => {
    const actor = publisher(view);
    const api = await m.apis.get(actor, params.apiId!);
    await m.apis.remove(actor, api.id);
    return { redirect: '/publisher', flash: { notice: `API ${api.name} ${api.version} deleted.` } };
  });

  for (const verb of ['block', 'unblock'] as const) {
    kit.post(`/publisher/subscriptions/:subscriptionId/${verb}`, async ({ view, params, form }) => {
      const actor = publisher(view);
      const back = text(form, 'back'); // read (and refused if sent twice) before anything changes
      const sub = verb === 'block' ? await m.subscriptions.block(actor, params.subscriptionId!) : await m.subscriptions.unblock(actor, params.subscriptionId!);
      return {
        redirect: back && /^[A-Za-z0-9-]{1,64}$/.test(back) ? `/publisher/apis/${back}` : '/publisher',
        flash: { notice: `${sub.applicationName} is ${sub.status === 'BLOCKED' ? 'blocked: its calls get 403 now' : 'unblocked'}.` },
      };
    });
  }
}
