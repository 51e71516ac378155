import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Platform } from '@recon/persistence';
import { PLATFORM } from '../tokens';
import { AUTH_FAILURE_LIMITER, AuthFailureLimiter, authFailureLimitMessage } from './auth-failure-limiter';
import { roleAllows, TokenRejectedError, verifyToken, type Role, type TokenIdentity } from './tokens';

const PUBLIC = 'recon:public';
const ROLE = 'recon:role';

/** A route anyone may call (health probes only). */
export const Public = () => SetMetadata(PUBLIC, true);
/** The least role a route needs; a route without one needs admin. */
export const RequireRole = (role: Role) => SetMetadata(ROLE, role);

export interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  identity?: TokenIdentity;
  /** The client address (express: the socket's peer address). */
  ip?: string;
}

/** A provider of the limiter of refused tokens, one per application. */
export const authFailureLimiterProvider = (perMinute: number) => ({
  provide: AUTH_FAILURE_LIMITER,
  useValue: new AuthFailureLimiter(perMinute),
});

/**
 * Every route requires a valid bearer token with a sufficient role, unless marked @Public(). A client address
 * that presented too many refused tokens is answered 429 before its token is checked.
 */
@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AUTH_FAILURE_LIMITER) private readonly failures: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const needed = this.reflector.getAllAndOverride<Role>(ROLE, targets) ?? 'admin';
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const address = request.ip ?? 'unknown';
    const retryAfter = this.failures.retryAfterSeconds(address);
    if (retryAfter > 0) {
      const response = context.switchToHttp().getResponse<{ header(name: string, value: string): void }>();
      response.header('Retry-After', String(retryAfter));
      throw new HttpException(
        { statusCode: 429, message: authFailureLimitMessage(this.failures, retryAfter), error: 'Too Many Requests' },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    const header = request.headers.authorization;
    const value = Array.isArray(header) ? header[0] : header;
    if (!value || !value.startsWith('Bearer ')) {
      throw new UnauthorizedException('this route requires an API token: send "Authorization: Bearer <token>"');
    }
    try {
      request.identity = await verifyToken(this.platform, value.slice('Bearer '.length).trim());
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        this.failures.recordFailure(address);
        throw new UnauthorizedException(`API token refused: ${error.message}`);
      }
      throw error;
    }
    if (!roleAllows(request.identity.role, needed)) {
      throw new ForbiddenException(`this route needs the role '${needed}'; the token has '${request.identity.role}'`);
    }
    return true;
  }
}
