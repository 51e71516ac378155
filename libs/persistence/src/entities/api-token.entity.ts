import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An API token as issued and revoked (platform-wide: not part of any run); only its secret's sha256 is kept. */
@Entity({ name: 'api_tokens' })
export class ApiTokenEntity {
  @PrimaryColumn({ name: 'token_id', type: 'text' }) tokenId!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) role!: string;
  @Column({ name: 'secret_hash', type: 'text' }) secretHash!: string;
  @Column({ name: 'created_at', type: 'text' }) createdAt!: string;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @Column({ name: 'expires_at', type: 'text', nullable: true }) expiresAt!: string | null;
  @Column({ name: 'revoked_at', type: 'text', nullable: true }) revokedAt!: string | null;
  @Column({ name: 'revoked_by', type: 'text', nullable: true }) revokedBy!: string | null;
  @Column({ name: 'revoke_reason', type: 'text', nullable: true }) revokeReason!: string | null;
  @Column({ name: 'global_position', type: 'bigint' }) globalPosition!: string;
}
