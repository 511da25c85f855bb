import type { Element } from '@xmldom/xmldom';
import { fail } from './errors.js';
import { parseDateTimeMs } from './time.js';
import type { SamlBearerClaims, SamlIdentityProvider } from './types.js';
import { NS, attr, childElements, is, simpleText } from './xml.js';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
const TEXT_NODE = 3;
const ASSERTION_CHILDREN = new Set([
  'Issuer', 'Subject', 'Conditions', 'Advice', 'Statement', 'AuthnStatement', 'AuthzDecisionStatement', 'AttributeStatement',
]);

export function readIssuer(issuerEl: Element | undefined): string {
  if (!issuerEl || !is(issuerEl, NS.saml, 'Issuer')) fail('assertion must start with an Issuer');
  const format = attr(issuerEl, 'Format');
  if (format !== undefined && format !== ENTITY_FORMAT) fail('Issuer Format must be the entity format');
  const issuer = simpleText(issuerEl, 'Issuer');
  if (issuer.trim() === '') fail('Issuer is empty');
  return issuer;
}

function seconds(ms: number, round: 'floor' | 'ceil'): number {
  return round === 'floor' ? Math.floor(ms / 1000) : Math.ceil(ms / 1000);
}

function optionalDate(el: Element, name: string, what: string): number | undefined {
  const value = attr(el, name);
  return value === undefined ? undefined : parseDateTimeMs(value, what);
}

interface Window {
  notBefore: number | undefined;
  notOnOrAfter: number | undefined;
  audience: string;
}

/** Conditions: the validity window, and every AudienceRestriction naming an accepted audience. */
function checkConditions(conditions: Element | undefined, idp: SamlIdentityProvider, nowMs: number, skewMs: number): Window {
  if (!conditions) fail('assertion has no Conditions with an AudienceRestriction');
  const notBefore = optionalDate(conditions, 'NotBefore', 'Conditions NotBefore');
  const notOnOrAfter = optionalDate(conditions, 'NotOnOrAfter', 'Conditions NotOnOrAfter');
  if (notOnOrAfter !== undefined && nowMs >= notOnOrAfter + skewMs) fail('assertion has expired');
  if (notBefore !== undefined && nowMs + skewMs < notBefore) fail('assertion is not yet valid');
  if (notBefore !== undefined && notOnOrAfter !== undefined && notBefore >= notOnOrAfter) fail('assertion Conditions window is empty');
  let matched: string | undefined;
  let restrictions = 0;
  let audienceOk = true;
  for (const condition of childElements(conditions)) {
    if (is(condition, NS.saml, 'AudienceRestriction')) {
      restrictions++;
      const audiences = childElements(condition).map((a) => {
        if (!is(a, NS.saml, 'Audience')) fail('AudienceRestriction has unexpected content');
        return simpleText(a, 'Audience').trim();
      });
      if (audiences.length === 0) fail('AudienceRestriction has no Audience');
      // Every AudienceRestriction must be satisfied (SAML core 2.5.1.4).
      const ours = audiences.find((a) => idp.audiences.includes(a));
      if (ours === undefined) audienceOk = false;
      matched ??= ours;
    } else if (!is(condition, NS.saml, 'OneTimeUse') && !is(condition, NS.saml, 'ProxyRestriction')) {
      // An unknown condition makes the assertion Indeterminate (SAML core 2.5.1): refuse.
      fail('assertion has an unsupported condition');
    }
  }
  if (restrictions === 0) fail('assertion has no AudienceRestriction');
  if (!audienceOk || matched === undefined) fail('assertion audience does not match');
  return { notBefore, notOnOrAfter, audience: matched };
}

function readNameId(subjectParts: Element[]): { nameId: string; nameIdFormat: string | undefined } {
  const nameIds = subjectParts.filter((el) => is(el, NS.saml, 'NameID'));
  if (nameIds.length === 0) fail('assertion has no NameID');
  if (nameIds.length > 1 || subjectParts[0] !== nameIds[0]) fail('assertion Subject must start with exactly one NameID');
  const nameIdEl = nameIds[0]!;
  const nameIdNodes = Array.from(nameIdEl.childNodes);
  if (nameIdNodes.length !== 1 || nameIdNodes[0]!.nodeType !== TEXT_NODE) {
    fail(nameIdNodes.length === 0 ? 'NameID is empty' : 'NameID must be a single text node');
  }
  const nameId = nameIdNodes[0]!.nodeValue ?? '';
  if (nameId.trim() === '') fail('NameID is empty');
  // Refused, not trimmed: " alice" is not "alice", and no trimming rule of ours should decide it is.
  if (nameId.trim() !== nameId) fail('NameID has leading or trailing whitespace');
  return { nameId, nameIdFormat: attr(nameIdEl, 'Format') };
}

/**
 * RFC 7522 §3 item 3: a bearer SubjectConfirmation whose SubjectConfirmationData, when present,
 * names one of our token endpoint URLs as Recipient and has a NotOnOrAfter that has not passed.
 * Without a Conditions@NotOnOrAfter the data is required; with one, a confirmation without data
 * is usable and its window is the Conditions' (the Recipient is then not checked, as the RFC allows).
 * Returns the end of the first usable confirmation.
 */
function confirmBearer(subjectParts: Element[], idp: SamlIdentityProvider, conditionsNotOnOrAfter: number | undefined, nowMs: number, skewMs: number): number {
  let bearerSeen = false;
  let reason: string | undefined;
  let reasonForRecipient: string | undefined;
  for (const part of subjectParts) {
    if (!is(part, NS.saml, 'SubjectConfirmation')) fail('unexpected element in the Subject');
    if (attr(part, 'Method') !== BEARER) continue;
    bearerSeen = true;
    const dataList = childElements(part).filter((el) => is(el, NS.saml, 'SubjectConfirmationData'));
    if (dataList.length === 0 && conditionsNotOnOrAfter !== undefined) return conditionsNotOnOrAfter;
    if (dataList.length !== 1) {
      reason ??= dataList.length === 0
        ? 'bearer SubjectConfirmation needs SubjectConfirmationData when Conditions has no NotOnOrAfter'
        : 'bearer SubjectConfirmation must have one SubjectConfirmationData';
      continue;
    }
    const data = dataList[0]!;
    const until = optionalDate(data, 'NotOnOrAfter', 'SubjectConfirmationData NotOnOrAfter');
    const from = optionalDate(data, 'NotBefore', 'SubjectConfirmationData NotBefore');
    if (!idp.recipients.includes((attr(data, 'Recipient') ?? '').trim())) reasonForRecipient ??= 'bearer SubjectConfirmationData Recipient does not match';
    else if (until === undefined) reason ??= 'bearer SubjectConfirmationData has no NotOnOrAfter';
    else if (nowMs >= until + skewMs) reason ??= 'bearer SubjectConfirmation has expired';
    else if (from !== undefined && nowMs + skewMs < from) reason ??= 'bearer SubjectConfirmation is not yet valid';
    else return until;
  }
  if (!bearerSeen) fail('assertion has no bearer SubjectConfirmation');
  return fail(reason ?? reasonForRecipient ?? 'assertion has no valid bearer SubjectConfirmation');
}

/** RFC 7522 section 3 checks and claim extraction, on the re-parsed signed bytes only. */
export function extractClaims(root: Element, assertionId: string, issuer: string, idp: SamlIdentityProvider, nowMs: number, skewMs: number): SamlBearerClaims {
  const children = childElements(root);
  for (const el of children) {
    if (el.namespaceURI !== NS.saml || !ASSERTION_CHILDREN.has(el.localName ?? '')) fail('unexpected element in the Assertion');
  }
  if (readIssuer(children[0]) !== issuer) fail('signed Issuer does not match');
  if (children.filter((el) => el.localName === 'Issuer').length !== 1) fail('assertion must have exactly one Issuer');

  const issueInstantValue = attr(root, 'IssueInstant');
  if (issueInstantValue === undefined) fail('assertion has no IssueInstant');
  const issueInstant = parseDateTimeMs(issueInstantValue, 'IssueInstant');
  if (issueInstant > nowMs + skewMs) fail('assertion IssueInstant is in the future');

  const conditionsList = children.filter((el) => el.localName === 'Conditions');
  if (conditionsList.length > 1) fail('assertion must not have more than one Conditions');
  const window = checkConditions(conditionsList[0], idp, nowMs, skewMs);

  const subjects = children.filter((el) => el.localName === 'Subject');
  if (subjects.length !== 1) fail(subjects.length === 0 ? 'assertion has no Subject' : 'assertion must have exactly one Subject');
  const subjectParts = childElements(subjects[0]!);
  const { nameId, nameIdFormat } = readNameId(subjectParts);
  const confirmedUntil = confirmBearer(subjectParts.slice(1), idp, window.notOnOrAfter, nowMs, skewMs);

  const sessionIndex = children
    .filter((el) => is(el, NS.saml, 'AuthnStatement'))
    .map((el) => attr(el, 'SessionIndex'))
    .find((s) => s !== undefined);

  const claims: SamlBearerClaims = {
    issuer,
    assertionId,
    nameId,
    audience: window.audience,
    notOnOrAfter: seconds(Math.min(confirmedUntil, window.notOnOrAfter ?? Infinity), 'floor'),
    issueInstant: seconds(issueInstant, 'floor'),
  };
  if (nameIdFormat !== undefined) claims.nameIdFormat = nameIdFormat;
  if (window.notBefore !== undefined) claims.notBefore = seconds(window.notBefore, 'ceil');
  if (sessionIndex !== undefined) claims.sessionIndex = sessionIndex;
  return claims;
}
