// Level 2 at the counter with the card's chip (issue 18 item 4, docs/administration.md "Level 2 with the
// chip"): the chip is verified before the four-eyes request is made — a refused chip, or another
// person's card, requests nothing — and on approval the account keeps how level 2 was evidenced
// (level_evidence_method 'chip', level_evidence_document as checked); an in-person raise says 'in_person'.
// Through the admin API and the command line (`chip issue`, `accounts raise-level --chip`).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startTestServer, type RunningServer } from '../support/world.ts';
import { adminCall, adminSession, FIRST_ADMIN, SECOND_ADMIN, type AdminCredentials } from '../support/admin.ts';
import { cliEnvironment, runCli } from '../support/cli.ts';
import { chipOf } from '../support/chip.ts';
import { chipRequestBody } from '../../src/chip/test-chip.ts';
import { composeNationalId } from '../../src/registry/national-id.ts';
import { cardExpiry } from '../../src/registry/registry.ts';

type Json = Record<string, unknown>;
const TUNG = '036080001111'; // deceased, level 1 in the demo data

describe('level 2 at the counter with the chip', function () {
  this.timeout(120_000);
  let world: RunningServer;
  let officer: AdminCredentials & { kind: 'session' };
  let second: AdminCredentials & { kind: 'session' };
  let folder: string;

  before(async function () {
    world = await startTestServer();
    officer = await adminSession(world, FIRST_ADMIN, ['support_officer']);
    second = await adminSession(world, SECOND_ADMIN, ['support_officer']);
    folder = mkdtempSync(path.join(tmpdir(), 'chip-raise-'));
  });
  after(async function () {
    rmSync(folder, { recursive: true, force: true });
    await world?.close();
  });

  const call = <T = Json>(method: string, url: string, body?: unknown, who: AdminCredentials = officer) => adminCall<T>(world, who, method, url, body);

  /** A level-1 citizen whose card (issued 2024-05-02) is valid. */
  let serial = 400;
  async function levelOneCitizen(): Promise<{ nationalId: string; accountId: string }> {
    const { container } = world.server;
    serial += 1;
    const nationalId = composeNationalId('001', 1992, 'male', serial);
    await container.registry.upsert({
      nationalId,
      fullName: 'Vũ Đức Thắng',
      birthDate: '1992-08-19',
      gender: 'male',
      birthRegistrationProvince: '001',
      placeOfOrigin: 'Hà Nội',
      ethnicity: 'Kinh',
      nationality: 'VN',
      idCardIssueDate: '2024-05-02',
      idCardExpiryDate: cardExpiry('1992-08-19', '2024-05-02'),
      permanentAddress: { streetAddress: '2 Tràng Thi', locality: 'Hoàn Kiếm', region: 'Hà Nội', country: 'VN' },
      temporaryAddress: null,
      diedOn: null,
      missingSince: null,
      contactPhone: null,
      contactEmail: null,
    });
    const account = await container.accounts.enrol({
      nationalId,
      level: 1,
      passwordHash: await container.passwords.hash('Thang#Chip2026'),
      totpSecretSealed: null,
      phoneNumber: null,
      phoneNumberVerified: false,
      email: null,
      emailVerified: false,
    });
    return { nationalId, accountId: account.id };
  }

  const evidenceOf = (accountId: string) =>
    world.server.container.db('accounts').where({ id: accountId }).first<{ level: number; level_evidence_method: string | null; level_evidence_document: Json | null; level_evidence: string }>();
  const pendingFor = async (accountId: string) => (await world.server.container.db('admin_approvals').where({ subject: accountId, status: 'pending' })).length;

  describe('admin API', function () {
    it('verifies the chip, then waits for a second officer; approval records the chip and the document as checked', async function () {
      const citizen = await levelOneCitizen();
      const chip = chipRequestBody(await chipOf(world, citizen.nationalId));
      const requested = await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { chip });
      expect(requested.status, JSON.stringify(requested.body)).to.equal(202);
      expect((await evidenceOf(citizen.accountId))?.level).to.equal(1);
      const approved = await call('POST', `/api/accounts/level-requests/${requested.body.requestId as string}/approve`, undefined, second);
      expect(approved.status, JSON.stringify(approved.body)).to.equal(200);
      const account = await evidenceOf(citizen.accountId);
      expect(account).to.deep.include({ level: 2, level_evidence_method: 'chip' });
      expect(account.level_evidence_document).to.deep.include({
        type: 'idcard',
        document_number: citizen.nationalId,
        date_of_issuance: '2024-05-02',
        date_of_expiry: '2032-08-19',
        method: 'chip',
      });
      expect(account.level_evidence_document!.issuer).to.deep.equal({ name: 'Cục Cảnh sát quản lý hành chính về trật tự xã hội', country_code: 'VNM' });
      expect(account.level_evidence_document!.txn).to.match(/^[0-9a-f-]{36}$/);
      expect(account.level_evidence).to.include(account.level_evidence_document!.txn);
    });

    it("refuses a dead citizen's chip with 422 naming the check, and requests nothing", async function () {
      const tung = (await world.server.container.accounts.findByNationalId(TUNG))!;
      const answer = await call('POST', `/api/accounts/${tung.id}/level-requests`, { chip: chipRequestBody(await chipOf(world, TUNG)) });
      expect(answer.status).to.equal(422);
      expect(answer.body).to.deep.include({ code: 'chip_refused' });
      expect(JSON.stringify(answer.body)).to.include('citizen_alive');
      expect(await pendingFor(tung.id)).to.equal(0);
    });

    it("refuses another person's card (422), and requests nothing", async function () {
      const citizen = await levelOneCitizen();
      const other = await levelOneCitizen();
      const answer = await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { chip: chipRequestBody(await chipOf(world, other.nationalId)) });
      expect(answer.status).to.equal(422);
      expect(JSON.stringify(answer.body)).to.include('card_of_this_account');
      expect(await pendingFor(citizen.accountId)).to.equal(0);
    });

    it('refuses a chip that cannot be read (400) and a body with neither evidence nor chip (400)', async function () {
      const citizen = await levelOneCitizen();
      const chip = chipRequestBody(await chipOf(world, citizen.nationalId));
      expect((await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { chip: { ...chip, sod: 'bm90IGEgU09E' } })).status).to.equal(400);
      expect((await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { chip: { ...chip, dg1: '%%%' } })).status).to.equal(400);
      expect((await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, {})).status).to.equal(400);
      expect(await pendingFor(citizen.accountId)).to.equal(0);
    });

    it("records an in-person raise as 'in_person', with no document", async function () {
      const citizen = await levelOneCitizen();
      const requested = await call('POST', `/api/accounts/${citizen.accountId}/level-requests`, { evidence: 'CCCD gốc, hồ sơ HS-2026-0999' });
      expect(requested.status).to.equal(202);
      expect((await call('POST', `/api/accounts/level-requests/${requested.body.requestId as string}/approve`, undefined, second)).status).to.equal(200);
      expect(await evidenceOf(citizen.accountId)).to.deep.include({ level: 2, level_evidence_method: 'in_person', level_evidence_document: null });
    });
  });

  describe('command line', function () {
    const cli = (args: string[]) => runCli(args, cliEnvironment(world.database.url));

    it('chip issue writes sod.bin, dg1.bin, dg2.bin and dg13.bin; raise-level --chip requests level 2; confirm-level records the chip', async function () {
      const citizen = await levelOneCitizen();
      const dir = path.join(folder, citizen.nationalId);
      const issued = await cli(['chip', 'issue', '--id', citizen.nationalId, '--out', dir]);
      expect(issued.code, issued.stderr).to.equal(0);
      expect(issued.stdout).to.include('TEST chip');
      expect(readdirSync(dir).sort()).to.deep.equal(['dg1.bin', 'dg13.bin', 'dg2.bin', 'sod.bin']);

      const raised = await cli(['accounts', 'raise-level', citizen.nationalId, '--chip', dir, '--officer', 'Đại úy Lê Văn Tâm']);
      expect(raised.code, raised.stderr).to.equal(0);
      expect(raised.stdout).to.include('the chip is verified');
      const requestId = /level-2 request ([0-9a-f-]{36}) recorded/.exec(raised.stdout)![1]!;
      const confirmed = await cli(['accounts', 'confirm-level', requestId, '--officer', 'Thiếu tá Phạm Thu']);
      expect(confirmed.code, confirmed.stderr).to.equal(0);
      const account = await evidenceOf(citizen.accountId);
      expect(account).to.deep.include({ level: 2, level_evidence_method: 'chip' });
      expect(account.level_evidence_document).to.deep.include({ document_number: citizen.nationalId, method: 'chip' });
    });

    it("issues a dead citizen's chip, and raise-level refuses it (status 2) naming the check, requesting nothing", async function () {
      const dir = path.join(folder, TUNG);
      expect((await cli(['chip', 'issue', '--id', TUNG, '--out', dir])).code).to.equal(0);
      const refused = await cli(['accounts', 'raise-level', TUNG, '--chip', dir, '--officer', 'Đại úy Lê Văn Tâm']);
      expect(refused.code).to.equal(2);
      expect(refused.stderr).to.include('citizen_alive');
      const tung = (await world.server.container.accounts.findByNationalId(TUNG))!;
      expect(await pendingFor(tung.id)).to.equal(0);
    });

    it('refuses chip issue for an unknown number and a bad --id (status 2), writing nothing', async function () {
      const unknown = await cli(['chip', 'issue', '--id', '031190009999', '--out', path.join(folder, 'x')]);
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.include('no such registry record');
      const bad = await cli(['chip', 'issue', '--id', '12', '--out', path.join(folder, 'y')]);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.include('12-digit');
      expect(readdirSync(folder)).not.to.include.members(['x', 'y']);
    });
  });
});
