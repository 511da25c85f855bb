/**
 * How a token's subject is shown to resource servers and backends (introspection `sub`, the
 * gateway's X-JWT-Assertion `sub` and `enduser`).
 *
 * A federated subject (a SAML NameID) must never read as a local account: NameID `alice` from
 * any registered IdP is not the local user `alice`. It is shown qualified by its IdP:
 *
 *     <IdP entity ID>|<NameID>      e.g.  https://idp.example.org/saml|alice
 *
 * Unambiguous: local usernames match /^[A-Za-z0-9._@+-]{1,255}$/ and never contain "|"; the
 * entity ID comes first and has its "%" and "|" percent-encoded (%25, %7C; URIs have no "|"
 * anyway), so the first "|" always ends it and everything after it is the NameID, verbatim.
 * A backend tells the two apart by the "|" (or by the `idp` claim / field that comes with it).
 */
export function qualifiedSubject(idp: string, nameId: string): string {
  const entity = idp.indexOf('%') === -1 && idp.indexOf('|') === -1 ? idp : idp.replace(/%/g, '%25').replace(/\|/g, '%7C');
  return `${entity}|${nameId}`;
}

/** The subject as resource servers see it: local subjects as they are, federated ones qualified. */
export function presentedSubject(t: { subject: string; idp: string | null }): string {
  return t.idp === null ? t.subject : qualifiedSubject(t.idp, t.subject);
}
