// The command line's approval of authorization-details types (docs/representation.md "Approving a
// portal"): as in the admin API, one officer asks and a second, different one confirms (four eyes);
// withdrawing applies at once. src/cli.ts opens the storage and hands over. Exit status: 0 done,
// 2 input refused (nothing written), 1 an unknown client or request.
import { parseArgs } from 'node:util';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Database } from '../storage/database.ts';
import type { ClientRepository } from '../oidc/clients/clients.ts';
import { AdminProblem } from './problem.ts';
import { FourEyesApprovals } from './approvals.ts';
import { CLIENT_DETAILS_TYPES_APPROVAL, applyDetailsTypes, requestDetailsTypes } from './api-client-details-types.ts';

export const DETAILS_TYPES_USAGE = `  clients request-type CLIENT TYPE --officer NAME
                                   ask to approve CLIENT for an authorization-details type
                                   (urn:vn:eid:representation); prints the request id
  clients confirm-type REQUEST --officer NAME [--reject]
                                   a second, different officer approves (or rejects) the request
  clients withdraw-type CLIENT TYPE --officer NAME
                                   withdraw the type from CLIENT at once`;

export interface DetailsTypesCommandDeps {
  readonly db: Database;
  readonly clients: Pick<ClientRepository, 'find' | 'setAuthorizationDetailsTypes' | 'clientsChanged'>;
  readonly audit: AuditLog;
  /** `cli:<user>` */
  readonly actor: string;
}

class Refused extends Error {}

/** Runs one `clients …-type` command; resolves to the exit status. */
export async function detailsTypesCommand(command: string, args: string[], deps: DetailsTypesCommandDeps): Promise<number> {
  const approvals = new FourEyesApprovals(deps.db);
  approvals.register(CLIENT_DETAILS_TYPES_APPROVAL, applyDetailsTypes, () => deps.clients.clientsChanged());
  try {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { officer: { type: 'string' }, reject: { type: 'boolean' } }, strict: true, allowPositionals: true });
    } catch (error) {
      throw new Refused((error as Error).message);
    }
    const { values, positionals } = parsed;
    const officer = typeof values.officer === 'string' ? values.officer.trim() : '';
    if (officer === '' || officer.length > 200) throw new Refused('--officer NAME is required (at most 200 characters)');
    // The officer named is who acts (and whom four eyes compares); the OS user is recorded too.
    const actor = `officer:${officer}`;
    const expect = (count: number, what: string) => {
      if (positionals.length !== count) throw new Refused(`expected ${what}`);
    };
    switch (command) {
      case 'request-type': {
        expect(2, 'CLIENT TYPE');
        const [clientId, type] = positionals as [string, string];
        const pending = await requestDetailsTypes({ clients: deps.clients, approvals, audit: deps.audit }, clientId, [type], actor);
        if (!pending) {
          console.log(`${clientId} is approved for ${type} already`);
          return 0;
        }
        console.log(`request ${pending.id} recorded (by ${actor}, via ${deps.actor}); a second officer confirms it with:`);
        console.log(`  npm run cli -- clients confirm-type ${pending.id} --officer NAME`);
        return 0;
      }
      case 'confirm-type': {
        expect(1, 'REQUEST');
        const pending = await approvals.find(positionals[0]!);
        if (!pending || pending.kind !== CLIENT_DETAILS_TYPES_APPROVAL) throw new AdminProblem(404, 'not_found', 'no such request for an authorization-details type');
        const decided = await approvals.decide(pending.id, actor, values.reject ? 'rejected' : 'approved');
        await deps.audit.record({
          type: 'admin.action',
          actor,
          clientId: decided.subject,
          data: { action: decided.status === 'approved' ? 'approval.approved' : 'approval.rejected', approval: decided.id, kind: decided.kind, change: decided.change, via: deps.actor },
        });
        console.log(decided.status === 'approved' ? `${decided.subject} approved for ${String((decided.change.add as string[]).join(', '))}` : 'request rejected');
        return 0;
      }
      case 'withdraw-type': {
        expect(2, 'CLIENT TYPE');
        const [clientId, type] = positionals as [string, string];
        const record = await deps.clients.find(clientId);
        if (!record) throw new AdminProblem(404, 'not_found', `no client ${clientId}`);
        if (!record.approvedAuthorizationDetailsTypes.includes(type)) {
          console.log(`${clientId} is not approved for ${type}; nothing changed`);
          return 0;
        }
        await deps.clients.setAuthorizationDetailsTypes(clientId, record.approvedAuthorizationDetailsTypes.filter((approved) => approved !== type));
        await approvals.supersede(CLIENT_DETAILS_TYPES_APPROVAL, clientId);
        await deps.audit.record({ type: 'admin.action', actor, clientId, data: { action: 'client.details_types_withdrawn', types: [type], via: deps.actor } });
        console.log(`${type} withdrawn from ${clientId}`);
        return 0;
      }
      default:
        console.error(`citizen-idp: unknown command "clients ${command}" (see: npm run cli -- help)`);
        return 2;
    }
  } catch (error) {
    if (error instanceof Refused) {
      console.error(`citizen-idp clients ${command}: ${error.message}`);
      return 2;
    }
    if (error instanceof AdminProblem) {
      console.error(`citizen-idp clients ${command}: ${error.message}`);
      return error.status === 404 ? 1 : 2;
    }
    throw error;
  }
}
