// The selection rules of verified claims (src/oidc/consent/verified-claims.ts) on their own: what a
// request picks from what the provider can say, and when a constraint leaves the element out.
import { expect } from 'chai';
import { releaseVerifiedClaims, select, type VerificationSource } from '../../src/oidc/consent/verified-claims.ts';
import { MalformedVerifiedClaimsRequest, parseVerifiedClaimsRequest } from '../../src/oidc/consent/verified-claims-request.ts';

const NOW = Date.parse('2026-12-08T00:00:00Z');
const DAY = 24 * 3600;

const source = (level: 1 | 2, overrides: Partial<VerificationSource> = {}): VerificationSource => ({
  evidence: { level, createdAt: new Date('2025-01-01T00:00:00Z'), levelRaisedAt: level === 2 ? new Date('2026-06-01T10:00:00Z') : null, method: level === 2 ? 'in_person' : null, document: null },
  card: { nationalId: '001099012345', issueDate: '2021-04-01', expiryDate: '2039-03-15' },
  registryReadAt: new Date(NOW),
  allowedClaims: { given_name: 'An', national_id: '001099012345', id_card_issue_date: '2021-04-01', id_card_expiry_date: '2039-03-15', address: { formatted: 'x' } },
  ...overrides,
});

const release = (request: unknown, from: VerificationSource) => releaseVerifiedClaims(parseVerifiedClaimsRequest(request), from, NOW);

describe('verified claims: selection', function () {
  it('gives the card’s dates only with max_age met, counted from the date’s last second', function () {
    const asked = (maxAge: number) =>
      release({ verification: { evidence: [{ type: { value: 'document' }, document_details: { date_of_issuance: { max_age: maxAge } } }] }, claims: { given_name: null } }, source(2));
    const sinceIssue = (NOW - Date.parse('2021-04-01T23:59:59Z')) / 1000;
    expect(asked(Math.ceil(sinceIssue))).to.not.equal(undefined);
    expect(asked(Math.floor(sinceIssue) - DAY)).to.equal(undefined);
  });

  it('leaves the element out when a constrained element is not there at all', function () {
    // Without the card dates' claims, the date cannot be checked: unmet, not skipped.
    const withoutDates = source(2, { allowedClaims: { given_name: 'An' } });
    expect(release({ verification: { evidence: [{ type: { value: 'document' }, document_details: { date_of_expiry: { max_age: 1e12 } } }] }, claims: { given_name: null } }, withoutDates)).to.equal(undefined);
    // Asked for without a constraint, it is merely left out.
    const plain = release({ verification: { evidence: [{ type: { value: 'document' }, document_details: { date_of_expiry: null, type: null } }] }, claims: { given_name: null } }, withoutDates);
    expect(plain?.element).to.deep.equal({ verification: { trust_framework: 'vn_eid', evidence: [{ type: 'document', document_details: { type: 'idcard' } }] }, claims: { given_name: 'An' } });
  });

  it('filters checks by values, and the evidence by its type', function () {
    const out = release(
      { verification: { evidence: [{ type: { value: 'document' }, check_details: [{ check_method: { values: ['vcrypt', 'vpip'] } }] }] }, claims: { given_name: null } },
      source(2),
    );
    expect(out?.element).to.deep.equal({ verification: { trust_framework: 'vn_eid', evidence: [{ type: 'document', check_details: [{ check_method: 'vpip' }] }] }, claims: { given_name: 'An' } });
    expect(out?.evidence).to.deep.equal(['document']);
    expect(release({ verification: { evidence: [{ type: { value: 'document' }, check_details: [{ check_method: { value: 'vcrypt' } }] }] }, claims: { given_name: null } }, source(2))).to.equal(undefined);
  });

  it('never puts a claim inside that the client may not receive, or that is not a registry claim', function () {
    const out = release({ verification: { trust_framework: null }, claims: { given_name: null, family_name: null, email: null, address: { value: 'x' } } }, source(1));
    expect((out?.element as { claims: unknown }).claims).to.deep.equal({ given_name: 'An' });
  });

  it('select: null gives the element as it is; an unavailable one is left out', function () {
    expect(select({ a: 1 }, null, NOW)).to.deep.equal({ met: true, value: { a: 1 } });
    expect(select({ a: 1 }, { b: null }, NOW)).to.deep.equal({ met: true, value: {} });
    expect(select({ a: 1 }, { b: { value: 2 } }, NOW)).to.deep.equal({ met: false });
  });

  it('refuses malformed requests, naming where', function () {
    for (const [request, where] of [
      [{ verification: {}, claims: { given_name: 'yes' } }, /claims\.given_name/],
      [{ verification: { assurance_level: { value: 'level_2', values: ['level_2'] } }, claims: { given_name: null } }, /value and values/],
      [{ verification: { evidence: { type: { value: 'document' } } }, claims: { given_name: null } }, /evidence must be an array/],
      [{ verification: { time: { max_age: -1 } }, claims: { given_name: null } }, /max_age/],
      [{ verification: { trust_framework: { purpose: 'x' } }, claims: { given_name: null } }, /purpose/],
      [Array.from({ length: 11 }, () => ({ verification: {}, claims: { given_name: null } })), /1 to 10/],
    ] as const) {
      expect(() => parseVerifiedClaimsRequest(request)).to.throw(MalformedVerifiedClaimsRequest, where);
    }
  });
});
