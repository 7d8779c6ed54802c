// The command line's account-administration and audit commands (docs/administration.md "Account administration",
// "Audit trail"); src/cli.ts opens the storage and hands over. Exit status as the rest of the CLI:
// 0 done, 2 input refused (nothing written), 1 any other failure (an unknown account, a broken chain).
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import type { AccountStore } from '../accounts/account-store.ts';
import type { AccountAccessTerminator } from '../registry/change-feed.ts';
import { AuditTrail, auditFilterSchema, filterOf } from '../audit/audit-trail.ts';
import { exportChainHeads, HeadsFileRefused, openHeadsFile, verifyTrail, type HeadsFile } from '../audit/chain-heads.ts';
import { archivePartitions, ArchiveRefused, verifyWithArchives } from '../audit/archive.ts';
import { AccountAdministration, type Officer } from './account-administration.ts';
import { AdminProblem } from './problem.ts';
import { FourEyesApprovals } from './approvals.ts';
import type { ChipRead, ChipVerifier } from '../chip/chip-verification.ts';
import { ChipFormatError } from '../chip/errors.ts';
import { readChipFolder } from '../chip/chip-cli.ts';

export const ADMIN_CLI_USAGE = `  accounts show ID [--officer NAME]
                                   an account's status, level and second factors (never a secret)
  accounts lock ID --reason TEXT --officer NAME
                                   lock the account and end all its sessions, grants and tokens
  accounts unlock ID --reason TEXT --officer NAME
  accounts end-sessions ID --reason TEXT --officer NAME
                                   end all the account's sessions, grants and tokens
  accounts reset-factors ID --reason TEXT --officer NAME
                                   remove TOTP, passkeys and recovery codes, end all access, and
                                   print the one-time code to hand over in person (shown once)
  accounts raise-level ID --evidence REF --officer NAME
                                   request level 2 after an in-person check; prints the request id
  accounts raise-level ID --chip DIR --officer NAME [--evidence REF]
                                   the same with the card's chip read (DIR/sod.bin, dg1.bin, dg13.bin,
                                   dg2.bin): verified first; a refused chip requests nothing
  accounts confirm-level REQUEST --officer NAME [--reject]
                                   a second, different officer confirms (or rejects) the request
  audit export [--from T] [--to T] [--type T,T] [--actor A] [--account UUID] [--client ID]
                                   the audit events as NDJSON on standard output, oldest first
  audit export-heads --out FILE    write each writer's chain head, signed with AUDIT_HEADS_KEY
  audit verify [--heads FILE]...   check every writer's hash chain and each signed head in FILE
  audit verify --archives DIR [--heads FILE]...
                                   the chains (and heads) across the archive files in DIR and the live partitions
  audit archive --before YYYY-MM --dir DIR
                                   each monthly partition before YYYY-MM and older than the history
                                   retention: to DIR as signed .ndjson.gz, checked, then dropped`;

class Refused extends Error {
  override readonly name = 'Refused';
}

function parse<T extends ParseArgsOptionsConfig>(args: string[], options: T, positional?: string) {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: positional !== undefined });
    if (positional !== undefined && positionals.length !== 1) {
      throw new Refused(positionals.length === 0 ? `${positional} is required` : `one ${positional} only, got ${positionals.length}`);
    }
    return { values, positional: positionals[0] ?? '' };
  } catch (error) {
    throw error instanceof Refused ? error : new Refused((error as Error).message);
  }
}

function officerOf(values: { officer?: string | boolean | undefined }, operator: string): Officer {
  const name = typeof values.officer === 'string' ? values.officer.trim() : '';
  if (name === '') throw new Refused('--officer is required');
  if (name.length > 200) throw new Refused('--officer is longer than 200 characters');
  // The officer named is who acts (and whom four eyes compares); the OS user who ran it is recorded too.
  return { id: `officer:${name}`, via: operator };
}

const date = (value: Date | null | undefined) => (value ? value.toISOString() : '-');

export interface AccountCommandDeps {
  /** The four-eyes queue's table. */
  readonly db: Database;
  readonly accounts: AccountStore;
  readonly audit: AuditLog;
  readonly access: AccountAccessTerminator;
  /** `cli:<user>` */
  readonly actor?: string | undefined;
  /** For `raise-level --chip` (src/chip/chip-verification.ts). */
  readonly chip?: ChipVerifier;
}

/** Runs one `accounts …` command; resolves to the exit status. */
export async function accountCommand(command: string, args: string[], deps: AccountCommandDeps): Promise<number> {
  const administration = new AccountAdministration({
    accounts: deps.accounts,
    audit: deps.audit,
    access: deps.access,
    approvals: new FourEyesApprovals(deps.db),
    ...(deps.chip && { chip: deps.chip }),
  });
  const operator = deps.actor ?? 'cli:unknown';
  const withReason = { reason: { type: 'string' }, officer: { type: 'string' } } as const;
  try {
    switch (command) {
      case 'show': {
        const { values, positional } = parse(args, { officer: { type: 'string' } }, 'an ID number');
        const view = await administration.view(values.officer ? officerOf(values, operator) : { id: operator, via: operator }, positional);
        const factors = view.factors;
        console.log(`account ${view.accountId}: level ${view.level}, ${view.status}${view.lockReason ? ` (${view.lockReason}, since ${date(view.lockedAt)})` : ''}`);
        if (view.levelRaisedAt) console.log(`level 2 since ${date(view.levelRaisedAt)} by ${view.levelRaisedBy ?? '?'}, evidence ${view.levelEvidence ?? '?'}`);
        console.log(`TOTP: ${factors.totp ? `enrolled ${date(factors.totp.enrolledAt)}` : 'none'}`);
        console.log(`passkeys: ${factors.passkeys.length === 0 ? 'none' : factors.passkeys.map((passkey) => `${passkey.name} (${date(passkey.createdAt)})`).join(', ')}`);
        console.log(`recovery codes left: ${factors.recoveryCodesLeft}`);
        if (view.handoverCode) console.log(`handover code outstanding, issued by ${view.handoverCode.issuedBy}, expires ${date(view.handoverCode.expiresAt)}`);
        if (view.pendingLevelTwo) console.log(`level-2 request ${view.pendingLevelTwo.requestId} by ${view.pendingLevelTwo.requestedBy} waits for a second officer`);
        return 0;
      }
      case 'lock': {
        const { values, positional } = parse(args, withReason, 'an ID number');
        const result = await administration.lock(officerOf(values, operator), positional, values.reason);
        console.log(`${result.lockedNow ? 'account locked' : 'the account was locked already'}; ended ${result.sessions} session(s), ${result.grants} grant(s)`);
        return 0;
      }
      case 'unlock': {
        const { values, positional } = parse(args, withReason, 'an ID number');
        const result = await administration.unlock(officerOf(values, operator), positional, values.reason);
        console.log(result.unlockedNow ? 'account unlocked' : 'the account was not locked; nothing changed');
        return 0;
      }
      case 'end-sessions': {
        const { values, positional } = parse(args, withReason, 'an ID number');
        const result = await administration.endAllSessions(officerOf(values, operator), positional, values.reason);
        console.log(`ended ${result.sessions} session(s), ${result.grants} grant(s)`);
        return 0;
      }
      case 'reset-factors': {
        const { values, positional } = parse(args, withReason, 'an ID number');
        const result = await administration.resetSecondFactors(officerOf(values, operator), positional, values.reason);
        console.log(`second factors removed (TOTP: ${result.removed.totp ? 'yes' : 'no'}, passkeys: ${result.removed.passkeys}, recovery codes: ${result.removed.recoveryCodes}); ended ${result.sessions} session(s)`);
        console.log(`handover code (give it to the citizen in person; shown only now): ${result.handoverCode}`);
        console.log(`valid until ${result.expiresAt.toISOString()}`);
        return 0;
      }
      case 'raise-level': {
        const { values, positional } = parse(args, { evidence: { type: 'string' }, officer: { type: 'string' }, chip: { type: 'string' } }, 'an ID number');
        const officer = officerOf(values, operator);
        let chipRead: ChipRead | undefined;
        try {
          chipRead = values.chip === undefined ? undefined : readChipFolder(values.chip);
        } catch (error) {
          throw new Refused((error as Error).message);
        }
        let request;
        try {
          request = await administration.requestLevelTwo(officer, positional, values.evidence, chipRead);
        } catch (error) {
          if (error instanceof ChipFormatError) throw new Refused(`--chip: ${error.message}`);
          throw error;
        }
        if (chipRead) console.log('the chip is verified: genuine, current, and this citizen\'s');
        console.log(`level-2 request ${request.id} recorded; a second officer confirms it with:`);
        console.log(`  npm run cli -- accounts confirm-level ${request.id} --officer NAME`);
        return 0;
      }
      case 'confirm-level': {
        const { values, positional } = parse(args, { officer: { type: 'string' }, reject: { type: 'boolean' } }, 'a request id');
        const decided = await administration.decideLevelTwo(officerOf(values, operator), positional, values.reject ? 'rejected' : 'approved');
        console.log(decided.status === 'approved' ? 'account raised to level 2' : 'request rejected; the account stays at level 1');
        return 0;
      }
      default:
        console.error(`citizen-idp: unknown command "accounts ${command}" (see: npm run cli -- help)`);
        return 2;
    }
  } catch (error) {
    if (error instanceof Refused) {
      console.error(`citizen-idp accounts ${command}: ${error.message}`);
      return 2;
    }
    if (error instanceof AdminProblem) {
      console.error(`citizen-idp accounts ${command}: ${error.message}`);
      return error.status === 404 ? 1 : 2;
    }
    throw error;
  }
}

export interface AuditCommandDeps {
  readonly db: Database;
  readonly log: Pick<AuditLog, 'verifyChain' | 'writers'>;
  readonly headsKey: Buffer | undefined;
  readonly out?: NodeJS.WritableStream;
  /** The citizen's history retention (audit.historyRetentionDays): what `audit archive` never touches. */
  readonly retentionDays?: number;
}

/** Runs one `audit …` command; resolves to the exit status. */
export async function auditCommand(command: string, args: string[], deps: AuditCommandDeps): Promise<number> {
  const out = deps.out ?? process.stdout;
  try {
    switch (command) {
      case 'export': {
        const { values } = parse(args, {
          from: { type: 'string' },
          to: { type: 'string' },
          type: { type: 'string' },
          actor: { type: 'string' },
          account: { type: 'string' },
          client: { type: 'string' },
        });
        const parsed = auditFilterSchema.safeParse({
          from: values.from,
          to: values.to,
          type: values.type,
          actor: values.actor,
          accountId: values.account,
          clientId: values.client,
        });
        if (!parsed.success) throw new Refused(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
        for await (const line of new AuditTrail(deps.db).ndjson(filterOf(parsed.data))) {
          if (!out.write(line)) await once(out, 'drain');
        }
        return 0;
      }
      case 'export-heads': {
        const { values } = parse(args, { out: { type: 'string' } });
        if (!values.out) throw new Refused('--out FILE is required');
        if (!deps.headsKey) throw new Refused('AUDIT_HEADS_KEY is not set (32 random bytes, base64 or hex; keep it outside the database)');
        const file = await exportChainHeads(deps.db, deps.headsKey);
        await writeFile(values.out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'EEXIST' ? new Refused(`${values.out} exists; heads files are never overwritten`) : error;
        });
        console.log(`wrote the heads of ${file.heads.length} chain(s) to ${values.out}`);
        return 0;
      }
      case 'archive': {
        // src/audit/archive.ts: each closed month older than the history retention, to a file, checked, then dropped.
        const { values } = parse(args, { before: { type: 'string' }, dir: { type: 'string' } });
        if (!values.before || !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.before)) throw new Refused('--before YYYY-MM is required (a month, such as 2021-01)');
        if (!values.dir) throw new Refused('--dir DIRECTORY is required (where the archive files go)');
        if (!deps.headsKey) throw new Refused('AUDIT_HEADS_KEY is not set: archives are signed with it');
        if (deps.retentionDays === undefined) throw new Refused('the history retention is not known');
        try {
          const outcome = await archivePartitions(deps.db, { before: values.before, retentionDays: deps.retentionDays, dir: values.dir, key: deps.headsKey });
          for (const entry of outcome.archived) console.log(`archived ${entry.partition}: ${entry.events} event(s) to ${entry.file}, verified, partition dropped`);
          for (const name of outcome.kept) console.log(`kept ${name}: the citizen's history (${deps.retentionDays} days) still shows it`);
          if (outcome.archived.length === 0) console.log('nothing to archive');
          return 0;
        } catch (error) {
          if (error instanceof ArchiveRefused) {
            console.error(`citizen-idp audit archive: ${error.message}`);
            return 1;
          }
          throw error;
        }
      }
      case 'verify': {
        const { values } = parse(args, { heads: { type: 'string', multiple: true }, archives: { type: 'string' } });
        const files: HeadsFile[] = [];
        for (const path of values.heads ?? []) {
          if (!deps.headsKey) throw new Refused('AUDIT_HEADS_KEY is not set: the heads files cannot be checked');
          try {
            files.push(openHeadsFile(await readFile(path, 'utf8'), deps.headsKey));
          } catch (error) {
            if (error instanceof HeadsFileRefused) {
              console.error(`citizen-idp audit verify: ${path} refused: ${error.message}`);
              return 1;
            }
            throw error;
          }
        }
        if (values.archives !== undefined) {
          // Across the archive files and the live partitions (src/audit/archive.ts), heads included.
          if (!deps.headsKey) throw new Refused('AUDIT_HEADS_KEY is not set: the archive files cannot be checked');
          const across = await verifyWithArchives(deps.db, { dir: values.archives, key: deps.headsKey, heads: files.flatMap((file) => file.heads) });
          for (const file of across.files) console.log(file.ok ? `archive ${file.partition}: intact` : `archive ${file.partition}: ${file.problem ?? 'NOT intact'} (${file.file})`);
          for (const chain of across.chains) {
            console.log(chain.intact ? `chain ${chain.writerId}: intact, ${chain.events} event(s)` : `chain ${chain.writerId}: BROKEN at seq ${chain.brokenAt}`);
          }
          for (const head of across.heads) {
            const what = { present: 'present', missing: 'MISSING (the chain was cut)', mismatch: 'DIFFERENT (the chain was rewritten)' }[head.outcome];
            console.log(`head ${head.writerId}#${head.seq}: ${what}`);
          }
          console.log(across.ok ? 'audit trail verified, archives included' : 'audit trail NOT intact');
          return across.ok ? 0 : 1;
        }
        const verification = await verifyTrail(deps.db, deps.log, files);
        for (const chain of verification.chains) {
          console.log(chain.intact ? `chain ${chain.writerId}: intact, ${chain.events} event(s)` : `chain ${chain.writerId}: BROKEN at seq ${chain.brokenAt}`);
        }
        for (const head of verification.heads) {
          const what = { present: 'present', missing: 'MISSING (the chain was cut)', mismatch: 'DIFFERENT (the chain was rewritten)' }[head.outcome];
          console.log(`head ${head.writerId}#${head.seq}: ${what}`);
        }
        console.log(verification.ok ? 'audit trail verified' : 'audit trail NOT intact');
        return verification.ok ? 0 : 1;
      }
      default:
        console.error(`citizen-idp: unknown command "audit ${command}" (see: npm run cli -- help)`);
        return 2;
    }
  } catch (error) {
    if (error instanceof Refused) {
      console.error(`citizen-idp audit ${command}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
