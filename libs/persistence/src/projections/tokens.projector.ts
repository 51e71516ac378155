import { IsNull, type EntityManager } from 'typeorm';
import type { RecordedEvent } from '@recon/eventlog';
import { ApiTokenEntity } from '../entities';
import { insertRows, readModelTable, type Projector } from './projector';

/** API tokens as issued and revoked (platform-wide: not part of any run). */
export class TokensProjector implements Projector {
  readonly name = 'api-tokens';
  readonly tables = [readModelTable(ApiTokenEntity, { perRun: false })];
  readonly eventTypes = ['access.token.created', 'access.token.revoked'];

  async apply(manager: EntityManager, events: RecordedEvent[]): Promise<void> {
    for (const event of events) {
      if (event.type === 'access.token.created') {
        const p = event.payload;
        await insertRows(manager, ApiTokenEntity, [
          {
            tokenId: p.tokenId,
            name: p.name,
            role: p.role,
            secretHash: p.secretHash,
            createdAt: event.occurredAt,
            createdBy: p.actor,
            expiresAt: p.expiresAt,
            revokedAt: null,
            revokedBy: null,
            revokeReason: null,
            globalPosition: String(event.globalPosition),
          },
        ]);
      } else if (event.type === 'access.token.revoked') {
        const p = event.payload;
        await manager.update(
          ApiTokenEntity,
          { tokenId: p.tokenId, revokedAt: IsNull() },
          { revokedAt: event.occurredAt, revokedBy: p.actor, revokeReason: p.reason },
        );
      }
    }
  }

  async applyRange(): Promise<void> {}

  reset(): void {}
}
