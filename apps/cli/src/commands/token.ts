import { userInfo } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import {
  ROLES,
  TokenRejectedError,
  issueToken,
  listTokens,
  revokeToken,
  type Role,
} from '@recon/service-kit';
import { CliFailure, cliProducer, withPlatform } from '../context';
import { printJsonOr, printRows } from '../output';

const DURATION = /^(\d+)([smhd])$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function parseDuration(value: string): number {
  const match = DURATION.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a duration like 30d, 12h or 15m, got '${value}'`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

function parseRole(value: string): Role {
  if (!(ROLES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${ROLES.join(', ')}, got '${value}'`);
  }
  return value as Role;
}

/** Who acts from the CLI: it has the database itself, so it acts as the local operating-system user. */
export function cliActor(): string {
  return `cli:${userInfo().username}`;
}

export function tokenCommand(): Command {
  const token = new Command('token').description('API tokens: create, list, revoke (admin)');
  token
    .command('create')
    .description('issue a token; its secret is printed once and only its hash is kept')
    .requiredOption('--name <name>', 'who or what the token is for')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, parseRole)
    .option('--expires-in <duration>', 'lifetime, e.g. 30d, 12h (default: no expiry)', parseDuration)
    .option('--json', 'print JSON')
    .action(async (options: { name: string; role: Role; expiresIn?: number; json?: boolean }) => {
      await withPlatform(async (platform) => {
        const issued = await issueToken(
          platform,
          {
            name: options.name,
            role: options.role,
            expiresInMs: options.expiresIn ?? null,
            actor: cliActor(),
          },
          cliProducer(),
        );
        printJsonOr(
          issued,
          () =>
            `token ${issued.tokenId} (${issued.role}${issued.expiresAt ? `, expires ${issued.expiresAt}` : ''}):\n${issued.token}\nkeep it now: it cannot be shown again`,
          options,
        );
      });
    });
  token
    .command('list')
    .description('list tokens (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withPlatform(async (platform) => {
        printRows(
          (await listTokens(platform)) as unknown as Array<Record<string, unknown>>,
          ['token_id', 'name', 'role', 'created_at', 'created_by', 'expires_at', 'revoked_at'],
          options,
        );
      });
    });
  token
    .command('revoke')
    .description('revoke a token')
    .argument('<token-id>', 'the token id shown by create and list')
    .option('--reason <text>', 'why', 'revoked by an administrator')
    .action(async (tokenId: string, options: { reason: string }) => {
      await withPlatform(async (platform) => {
        try {
          await revokeToken(platform, { tokenId, reason: options.reason, actor: cliActor() }, cliProducer());
        } catch (error) {
          if (error instanceof TokenRejectedError) throw new CliFailure(error.message);
          throw error;
        }
        process.stdout.write(`token ${tokenId} revoked\n`);
      });
    });
  return token;
}
