import type { EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import type { PayloadOf } from '@recon/contracts';
import type { Projector } from './projector';

/** API tokens as issued and revoked (platform-wide: not part of any run). */
export class TokensProjector implements Projector {
  readonly name = 'api-tokens';
  readonly tables = [{ name: 'api_tokens', orderBy: 'token_id', perRun: false }];
  readonly eventTypes = ['access.token.created', 'access.token.revoked'];

  async apply(manager: EntityManager, events: RecordedEvent[]): Promise<void> {
    for (const event of events) {
      if (event.type === 'access.token.created') {
        const p = event.payload as PayloadOf<'access.token.created'>;
        await manager.query(
          `INSERT INTO api_tokens (token_id, name, role, secret_hash, created_at, created_by, expires_at, global_position)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [p.tokenId, p.name, p.role, p.secretHash, event.occurredAt, p.actor, p.expiresAt, event.globalPosition],
        );
      } else {
        const p = event.payload as PayloadOf<'access.token.revoked'>;
        await manager.query(
          `UPDATE api_tokens SET revoked_at = $2, revoked_by = $3, revoke_reason = $4
            WHERE token_id = $1 AND revoked_at IS NULL`,
          [p.tokenId, event.occurredAt, p.actor, p.reason],
        );
      }
    }
  }

  async applyRange(): Promise<void> {}

  reset(): void {}
}
