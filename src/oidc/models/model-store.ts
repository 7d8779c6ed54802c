// What the adapter needs from a store of provider models; one implementation over the ephemeral
// store (Redis or memory), one over PostgreSQL.
import type { AdapterPayload } from 'oidc-provider';
import type { TokenHolderRow } from './token-holder.ts';
import type { ConsumeOutcome } from '../../storage/ephemeral-store.ts';

export interface ModelStore {
  upsert(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
  find(model: string, id: string): Promise<AdapterPayload | undefined>;
  /**
   * A token and, read in the same statement, the live grant it was issued under (`grant` undefined:
   * none). Optional: a store without it is asked for the grant separately.
   */
  findWithGrant?(model: string, id: string): Promise<{ payload: AdapterPayload; grant: AdapterPayload | undefined; holder?: TokenHolderRow } | undefined>;
  findByUid(model: string, uid: string): Promise<AdapterPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<AdapterPayload | undefined>;
  /** Exactly one concurrent caller gets 'consumed'. */
  consume(model: string, id: string): Promise<ConsumeOutcome>;
  destroy(model: string, id: string): Promise<void>;
  /** Removes everything issued under the grant, in every model this store holds. */
  revokeByGrantId(grantId: string): Promise<void>;
}
