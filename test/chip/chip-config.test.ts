// CHIP_TRUST_LIST in production (src/config/settings.ts): a trust list holding a certificate marked
// TEST ONLY (the quickstart's test CSCA, or any test key) is refused at start, one line naming the
// setting; a real-looking CSCA is accepted. Outside production the same file is accepted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { certificatePem, issueCertificate } from '../../src/chip/certificates.ts';

describe('configuration: the chip trust list in production', function () {
  let folder: string;
  let testCsca: string;
  let realCsca: string;
  const production = (trustList: string) => ({
    NODE_ENV: 'production',
    ISSUER: 'https://id.example.vn',
    DATABASE_URL: 'postgres://idp@db.internal:5432/citizen_idp',
    REDIS_URL: 'rediss://cache.internal:6380/0',
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PAIRWISE_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: 'smtps://mailer:secret@smtp.example.vn:465',
    CHIP_TRUST_LIST: trustList,
  });

  before(async function () {
    folder = mkdtempSync(path.join(tmpdir(), 'chip-config-'));
    const year = 365 * 24 * 3600 * 1000;
    const validity = { notBefore: new Date(Date.now() - year), notAfter: new Date(Date.now() + 10 * year) };
    testCsca = path.join(folder, 'test.pem');
    writeFileSync(testCsca, certificatePem((await issueCertificate({ commonName: 'TEST ONLY CSCA', ...validity })).certificate));
    realCsca = path.join(folder, 'real.pem');
    writeFileSync(realCsca, certificatePem((await issueCertificate({ commonName: 'CSCA Viet Nam', ...validity })).certificate));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('refuses a TEST ONLY certificate in production, naming CHIP_TRUST_LIST', function () {
    let refusal: unknown;
    try {
      loadConfig(production(testCsca));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).to.be.instanceOf(ConfigError);
    expect((refusal as Error).message).to.equal('CHIP_TRUST_LIST: expected no test certificate (CN "TEST ONLY …") in production');
  });

  it('accepts a trust list without test certificates in production, and a test one outside it', function () {
    expect(loadConfig(production(realCsca)).chip.trustListFile).to.equal(realCsca);
    expect(loadConfig({ ...production(testCsca), NODE_ENV: 'test', ISSUER: 'http://127.0.0.1:3000' }).chip.trustListFile).to.equal(testCsca);
  });

  it('refuses a trust list file that does not exist', function () {
    expect(() => loadConfig(production(path.join(folder, 'missing.pem')))).to.throw(ConfigError, /CHIP_TRUST_LIST/);
  });
});
