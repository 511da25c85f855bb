import { Forbidden } from '../../errors.js';
import type { FormBody } from '../../http/form.js';
import { html, type Html } from '../../http/html.js';
import { isAdmin, type IdentityProviderView } from '../../manage/index.js';
import { ROLES } from '../../store/users.js';
import { attempt, everyPage, isChecked, Kit, lines, pageOf, signedIn, text } from '../kit.js';
import { multipartForms } from '../multipart.js';
import { actionButton, badge, checkbox, csrfInput, field, formError, nextPageLink, select, type Errors, type View } from '../layout.js';

/** Certificates from the IdP form: pasted PEM text and uploaded PEM files (multipart), one certificate each. */
function certificatesOf(form: FormBody): string[] {
  const out: string[] = [];
  const pasted = text(form, 'certificatesPem');
  if (pasted) out.push(...(pasted.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [pasted]));
  const files = (form as Record<string, unknown>).certificateFiles;
  for (const f of Array.isArray(files) ? files : [files]) {
    if (Buffer.isBuffer(f) && f.length > 0) out.push(f.toString('utf8'));
  }
  return out;
}

interface IdpValues {
  issuer?: string | undefined;
  alias?: string | undefined;
  audiences?: string | undefined;
  certificatesPem?: string | undefined;
  defaultAudiences?: boolean;
}

function idpFields(v: IdpValues, errors: Errors | undefined, withIssuer: boolean): Html {
  return html`${withIssuer ? field({ name: 'issuer', label: 'Issuer (entity ID)', value: v.issuer, required: true, errors, hint: "As in the assertion's <Issuer>, e.g. https://idp.example.org/saml" }) : ''}
<label for="f-certificateFiles">Signing certificates: upload PEM files</label>
<input type="file" id="f-certificateFiles" name="certificateFiles" accept=".pem,.crt,.cer" multiple${errors?.certificates ? html` aria-invalid="true" aria-describedby="f-certificates-error"` : ''}>
${field({ name: 'certificatesPem', label: '… or paste PEM certificates', value: v.certificatesPem, textarea: true, hint: '-----BEGIN CERTIFICATE----- … (several during a key rollover)' })}
${errors?.certificates ? html`<p class="field-error" id="f-certificates-error">${errors.certificates}</p>` : ''}
${withIssuer
  ? field({ name: 'audiences', label: 'Accepted audiences (one per line, optional)', value: v.audiences, textarea: true, errors, hint: 'Default: this server\'s issuer and its /token URL.' })
  : html`${field({ name: 'audiences', label: 'Accepted audiences (one per line)', value: v.audiences, textarea: true, errors, hint: 'Empty: keep the current ones.' })}
${checkbox({ name: 'defaultAudiences', label: "Remove its own audiences: accept this server's issuer and its /token URL again (or the alias alone, if it has one)", checked: v.defaultAudiences === true })}`}
${field({ name: 'alias', label: 'Alias (optional)', value: v.alias, errors, hint: "WSO2's alias: accepted as Audience and as Recipient." })}`;
}

export async function adminPages(kit: Kit): Promise<void> {
  const m = kit.m;
  const admin = (view: View) => {
    const actor = signedIn(view);
    if (!isAdmin(actor)) throw new Forbidden('Admin pages are for admins.');
    return actor;
  };
  const nav = html`<p><a href="/admin">Users</a> · <a href="/admin/idps">Identity providers</a> · <a href="/admin/applications">Applications and tokens</a> · <a href="/admin/audit">Audit trail</a> · <a href="/admin/signing-keys">Signing keys</a> · <a href="/admin/tiers">Tiers</a> · <a href="/api/docs">Admin API reference</a></p>`;

  // ---------------------------------------------------------------- users

  const usersPage = async (view: View, query: Record<string, string | undefined>, values: { username?: string; role?: string } = {}, errors?: Errors) => {
    const actor = admin(view);
    const page = await m.users.list(actor, { limit: 50, ...(query.cursor ? { cursor: query.cursor } : {}) });
    return kit.page(
      view,
      'Admin',
      html`<div class="card"><h1>Admin</h1>${nav}</div><div class="card"><h2>Users</h2>
<table class="stack"><thead><tr><th scope="col">User</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col"><span class="skip">Actions</span></th></tr></thead><tbody>${page.items.map(
        (u) => html`<tr><td data-label="User">${u.username}</td>
<td data-label="Role"><form class="inline" method="post" action="/admin/users/${u.username}/role">${csrfInput(view.csrf)}${select({ name: 'role', label: `Role of ${u.username}`, options: ROLES.map((r) => [r, r]), value: u.role, id: `role-${u.username}` })}<button type="submit" class="small secondary">Change role</button></form></td>
<td data-label="Status">${u.locked ? badge('locked', 'bad') : badge('active', 'ok')}</td>
<td>${u.locked ? actionButton(view, `/admin/users/${u.username}/unlock`, `Unlock ${u.username}`) : actionButton(view, `/admin/users/${u.username}/lock`, `Lock ${u.username}`, { secondary: true })}
<a class="button secondary small" href="/admin/users/${u.username}/delete">Remove ${u.username}</a></td></tr>`,
      )}</tbody></table>${nextPageLink('/admin', page.next)}
<p class="muted">Locking a user revokes every token they authorized and stops their sign-in at once.</p></div>
<div class="card"><h2>Add a user</h2>${formError(errors, ['username', 'password', 'role'])}<form method="post" action="/admin/users">${csrfInput(view.csrf)}
${field({ name: 'username', label: 'Username', value: values.username, required: true, autocomplete: 'off', errors, hint: 'Letters, digits and . _ @ + - (at most 255).' })}
${field({ name: 'password', label: 'Password', type: 'password', required: true, autocomplete: 'new-password', errors, hint: 'At least 8 characters; tell the user to change it.' })}
${select({ name: 'role', label: 'Role', options: ROLES.map((r) => [r, r]), value: values.role ?? 'subscriber', errors, id: 'f-role' })}
<button type="submit">Add user</button></form></div>`,
    );
  };

  kit.get('/admin', ({ view, query }) => usersPage(view, query));

  kit.post('/admin/users', async ({ view, form }) => {
    const actor = admin(view);
    // the role as sent: none is the service's default; empty or repeated gets the service's refusal
    const role = form.role === undefined ? undefined : typeof form.role === 'string' ? form.role : '';
    const values = { username: text(form, 'username') ?? '', role: role ?? 'subscriber' };
    const r = await attempt(() => m.users.create(actor, { username: values.username, password: text(form, 'password') ?? '', ...(role !== undefined ? { role } : {}) }));
    if (!r.ok) return { status: r.status, page: await usersPage(view, {}, values, r.errors) };
    return { redirect: '/admin', flash: { notice: `${r.value.username} added as a ${r.value.role}.` } };
  });

  // ---------------------------------------------------------------- signing keys (X-JWT-Assertion)

  const keysPage = async (view: View, errors?: Errors) => {
    const actor = admin(view);
    const keys = await everyPage((page) => m.signingKeys.list(actor, page));
    const when = (iso: string | null) => (iso === null ? '—' : iso.replace('T', ' ').slice(0, 19));
    return kit.page(
      view,
      'Signing keys',
      html`<div class="card"><h1>Signing keys</h1>${nav}<p class="muted">The keys the gateway signs X-JWT-Assertion headers with, shared by every node on the database; backends verify them with <a href="${kit.settings.httpsBase}/.well-known/jwks.json">the JWKS</a>.</p>
<table class="stack"><thead><tr><th scope="col">Key ID</th><th scope="col">State</th><th scope="col">Created (UTC)</th><th scope="col">Signs from</th><th scope="col">Published until</th></tr></thead><tbody>${keys.map(
        (k) => html`<tr><td data-label="Key ID"><code>${k.kid}</code></td><td data-label="State">${badge(k.state, k.state === 'signing' ? 'ok' : k.state === 'retired' ? '' : 'warn')}</td>
<td data-label="Created (UTC)">${when(k.createdAt)}</td><td data-label="Signs from">${when(k.signsFrom)}</td><td data-label="Published until">${when(k.publishedUntil)}</td></tr>`,
      )}</tbody></table></div>
<div class="card"><h2>Rotate</h2><p>The published next key starts signing; the signing one stays in the JWKS until backends' caches have let it go; a new next key is published.</p>
${formError(errors, [])}<form method="post" action="/admin/signing-keys/rotate">${csrfInput(view.csrf)}${checkbox({ name: 'force', label: 'Rotate even if the next key was published so lately that backends may not have fetched it yet', id: 'f-force' })}
<button type="submit">Rotate signing keys</button></form></div>`,
    );
  };

  kit.get('/admin/signing-keys', ({ view }) => keysPage(view));

  kit.post('/admin/signing-keys/rotate', async ({ view, form }) => {
    const actor = admin(view);
    const r = await attempt(() => m.signingKeys.rotate(actor, { force: isChecked(form, 'force') }));
    if (!r.ok) return { status: r.status, page: await keysPage(view, r.errors) };
    return { redirect: '/admin/signing-keys', flash: { notice: `Rotated: ${r.value.signing.kid} signs now; ${r.value.next.kid} is the next key.` } };
  });

  // ---------------------------------------------------------------- tiers

  kit.get('/admin/tiers', async ({ view }) => {
    const actor = admin(view);
    const items = await everyPage((page) => m.tiers.list(actor, page));
    return kit.page(
      view,
      'Tiers',
      html`<div class="card"><h1>Tiers</h1>${nav}<p>What an application, or a subscription, on each tier may call: one window for all of an application's calls across its APIs, and one per subscription. Tiers come from this node's configuration (<code>throttling.tiers</code>): give every node the same.</p>
<table class="stack"><thead><tr><th scope="col">Tier</th><th scope="col">Limit</th></tr></thead><tbody>${items.map(
        (t) => html`<tr><td data-label="Tier">${t.name}</td><td data-label="Limit">${t.description}</td></tr>`,
      )}</tbody></table></div>`,
    );
  });

  // ---------------------------------------------------------------- audit trail

  kit.get('/admin/audit', async ({ view, query }) => {
    const actor = admin(view);
    const page = await m.audit.list(actor, {}, { limit: 50, ...(query.cursor ? { cursor: query.cursor } : {}) });
    return kit.page(
      view,
      'Audit trail',
      html`<div class="card"><h1>Audit trail</h1>${nav}<p class="muted">Every change made through the CLI, the admin API and the portal, newest first.</p>${
        page.items.length === 0
          ? html`<p>Nothing recorded yet.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">When (UTC)</th><th scope="col">Who</th><th scope="col">Via</th><th scope="col">Operation</th><th scope="col">Target</th><th scope="col">Change</th></tr></thead><tbody>${page.items.map(
              (e) => html`<tr><td data-label="When (UTC)" class="short">${e.at.slice(0, 10)}<br>${e.at.slice(11, 19)}</td><td data-label="Who">${e.actor}${e.address ? html` <span class="muted">${e.address}</span>` : ''}</td>
<td data-label="Via" class="short">${e.via}</td><td data-label="Operation"><code>${e.operation}</code></td><td data-label="Target">${e.targetType}${e.targetId ? html` <span class="muted">${e.targetId}</span>` : ''}</td>
<td data-label="Change">${e.detail ? html`<code>${JSON.stringify(e.detail)}</code>` : '—'}</td></tr>`,
            )}</tbody></table>${nextPageLink('/admin/audit', page.next)}`
      }</div>`,
    );
  });

  kit.post('/admin/users/:username/role', async ({ view, params, form }) => {
    const u = await m.users.update(admin(view), params.username!, { role: text(form, 'role') ?? '' });
    return { redirect: '/admin', flash: { notice: `${u.username} is now a ${u.role}.` } };
  });
  for (const [verb, locked] of [['lock', true], ['unlock', false]] as const) {
    kit.post(`/admin/users/:username/${verb}`, async ({ view, params }) => {
      const u = await m.users.update(admin(view), params.username!, { locked });
      return { redirect: '/admin', flash: { notice: `${u.username} is ${u.locked ? 'locked' : 'unlocked'}.` } };
    });
  }
  kit.get('/admin/users/:username/delete', async ({ view, params }) => {
    const u = await m.users.show(admin(view), params.username!);
    return kit.page(
      view,
      `Remove ${u.username}`,
      html`<div class="card"><h1>Remove ${u.username}?</h1><p>Their applications, keys, subscriptions and tokens are removed too. This cannot be undone.</p>
<div class="buttons"><form method="post" action="/admin/users/${u.username}/delete">${csrfInput(view.csrf)}<button type="submit" class="danger">Remove ${u.username}</button></form><a class="button secondary" href="/admin">Keep</a></div></div>`,
    );
  });
  kit.post('/admin/users/:username/delete', async ({ view, params }) => {
    await m.users.remove(admin(view), params.username!);
    return { redirect: '/admin', flash: { notice: `${params.username} removed.` } };
  });

  // ---------------------------------------------------------------- identity providers

  const idpsPage = async (view: View, values: IdpValues = {}, errors?: Errors) => {
    const actor = admin(view);
    const all = await everyPage((page) => m.identityProviders.list(actor, page));
    const row = (i: IdentityProviderView) => html`<tr><td data-label="Issuer"><a href="/admin/idps/${i.id}">${i.issuer}</a></td><td data-label="Audiences">${i.audiences.join(', ')}</td>
<td data-label="Certificates">${i.certificates.map((c) => html`<div>${c.subject} <span class="muted">until ${c.validTo.slice(0, 10)}</span></div>`)}</td></tr>`;
    return kit.page(
      view,
      'Identity providers',
      html`<div class="card"><h1>Identity providers</h1>${nav}<p>SAML 2.0 identity providers whose signed assertions applications may exchange for tokens.</p>${
        all.length === 0
          ? html`<p>None registered.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">Issuer</th><th scope="col">Audiences</th><th scope="col">Certificates</th></tr></thead><tbody>${all.map(row)}</tbody></table>`
      }</div>
<div class="card"><h2>Add an identity provider</h2>${formError(errors, ['issuer', 'certificates', 'audiences', 'alias'])}
<form method="post" action="/admin/idps" enctype="multipart/form-data">${csrfInput(view.csrf)}${idpFields(values, errors, true)}<button type="submit">Add identity provider</button></form></div>`,
    );
  };

  kit.get('/admin/idps', ({ view }) => idpsPage(view));

  const idpPage = async (view: View, id: string, values?: IdpValues, errors?: Errors) => {
    const idp = await m.identityProviders.get(admin(view), id);
    return kit.page(
      view,
      idp.issuer,
      html`<div class="card"><h1>${idp.issuer}</h1>${nav}
<dl class="facts"><dt>Audiences accepted</dt><dd>${idp.audiences.join(', ')}</dd><dt>Recipients accepted</dt><dd>${idp.recipients.join(', ')}</dd>
<dt>Certificates</dt><dd>${idp.certificates.map((c) => html`<div>${c.subject} · SHA-256 ${c.fingerprint256} · until ${c.validTo}</div>`)}</dd></dl></div>
<div class="card"><h2>Update</h2><p class="muted">Leave the certificate fields empty to keep the current ones.</p>${formError(errors, ['certificates', 'audiences', 'alias'])}
<form method="post" action="/admin/idps/${idp.id}" enctype="multipart/form-data">${csrfInput(view.csrf)}${idpFields(values ?? { alias: idp.alias ?? '' }, errors, false)}<button type="submit">Save changes</button></form></div>
<div class="card"><h2>Remove</h2><p>Its assertions are refused from now on, and every token issued for its users is revoked.</p>
${actionButton(view, `/admin/idps/${idp.id}/delete`, `Remove ${idp.issuer}`, { danger: true })}</div>`,
    );
  };

  kit.get('/admin/idps/:identityProviderId', ({ view, params }) => idpPage(view, params.identityProviderId!));

  // The two forms that upload PEM files, and only they, take multipart/form-data.
  await kit.app.register(async (scope) => {
    await multipartForms(scope);
    const uploads = new Kit(scope, m, kit.settings);
    uploads.post('/admin/idps', async ({ view, form }) => {
      const actor = admin(view);
      const values: IdpValues = { issuer: text(form, 'issuer'), alias: text(form, 'alias'), audiences: text(form, 'audiences'), certificatesPem: text(form, 'certificatesPem') };
      const r = await attempt(() =>
        m.identityProviders.create(actor, { issuer: values.issuer ?? '', certificates: certificatesOf(form), audiences: lines(form, 'audiences'), alias: values.alias ?? null }),
      );
      if (!r.ok) return { status: r.status, page: await idpsPage(view, values, r.errors) };
      return { redirect: `/admin/idps/${r.value.id}`, flash: { notice: `${r.value.issuer} is trusted now.` } };
    });

    uploads.post('/admin/idps/:identityProviderId', async ({ view, params, form }) => {
      const actor = admin(view);
      const certificates = certificatesOf(form);
      const audiences = lines(form, 'audiences');
      const defaults = isChecked(form, 'defaultAudiences');
      const values: IdpValues = { alias: text(form, 'alias'), audiences: text(form, 'audiences'), certificatesPem: text(form, 'certificatesPem'), defaultAudiences: defaults };
      const r = await attempt(() =>
        m.identityProviders.update(actor, params.identityProviderId!, {
          ...(certificates.length > 0 ? { certificates } : {}),
          ...(audiences.length > 0 ? { audiences } : {}),
          ...(defaults ? { removeAudiences: true } : {}),
          // the form's field left empty removes the alias; a form without it leaves it
          ...(form.alias !== undefined ? { alias: values.alias ?? null } : {}),
        }),
      );
      if (!r.ok) return { status: r.status, page: await idpPage(view, params.identityProviderId!, values, r.errors) };
      return { redirect: `/admin/idps/${r.value.id}`, flash: { notice: 'Changes saved.' } };
    });
  });

  kit.post('/admin/idps/:identityProviderId/delete', async ({ view, params }) => {
    const actor = admin(view);
    const idp = await m.identityProviders.get(actor, params.identityProviderId!);
    const { revokedGrants } = await m.identityProviders.remove(actor, idp.id);
    return { redirect: '/admin/idps', flash: { notice: `${idp.issuer} removed; ${revokedGrants} grant(s) revoked.` } };
  });

  // ---------------------------------------------------------------- applications and their tokens

  kit.get('/admin/applications', async ({ view, query }) => {
    const actor = admin(view);
    const page = await m.applications.list(actor, {}, { limit: 50, ...(query.cursor ? { cursor: query.cursor } : {}) });
    return kit.page(
      view,
      'Applications',
      html`<div class="card"><h1>Applications</h1>${nav}
<table class="stack"><thead><tr><th scope="col">Application</th><th scope="col">Owner</th><th scope="col">Tier</th></tr></thead><tbody>${page.items.map(
        (a) => html`<tr><td data-label="Application"><a href="/admin/applications/${a.id}/tokens">${a.name}</a></td><td data-label="Owner">${a.owner}</td><td data-label="Tier">${a.tier}</td></tr>`,
      )}</tbody></table>${nextPageLink('/admin/applications', page.next)}</div>`,
    );
  });

  kit.get('/admin/applications/:applicationId/tokens', async ({ view, params, query }) => {
    const actor = admin(view);
    const app = await m.applications.get(actor, params.applicationId!);
    const tokens = await m.tokens.list(actor, app.id, pageOf(query));
    return kit.page(
      view,
      `Tokens of ${app.name}`,
      html`<div class="card"><h1>Live tokens of ${app.name}</h1>${nav}<p class="muted">Owner ${app.owner}. Never the tokens themselves: their metadata.</p>${
        tokens.items.length === 0
          ? html`<p>No live token.</p>`
          : html`<table class="stack"><thead><tr><th scope="col">Issued</th><th scope="col">Expires</th><th scope="col">Key</th><th scope="col">Grant</th><th scope="col">User</th><th scope="col">Scope</th><th scope="col"><span class="skip">Actions</span></th></tr></thead><tbody>${tokens.items.map(
              (t) => html`<tr><td data-label="Issued">${t.issuedAt}</td><td data-label="Expires">${t.expiresAt}</td><td data-label="Key">${t.keyType}</td><td data-label="Grant">${t.grantType}</td>
<td data-label="User">${t.username ?? t.subject}</td><td data-label="Scope">${t.scope.join(' ')}</td>
<td>${actionButton(view, `/admin/applications/${app.id}/tokens/${t.id}/revoke`, `Revoke token issued ${t.issuedAt}`, { danger: true })}</td></tr>`,
            )}</tbody></table>${nextPageLink(`/admin/applications/${app.id}/tokens`, tokens.next)}`
      }</div>`,
    );
  });

  kit.post('/admin/applications/:applicationId/tokens/:tokenId/revoke', async ({ view, params }) => {
    await m.tokens.revoke(admin(view), params.applicationId!, params.tokenId!);
    return { redirect: `/admin/applications/${params.applicationId}/tokens`, flash: { notice: 'Token revoked (with its refresh token).' } };
  });
}
