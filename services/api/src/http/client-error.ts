import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { maxHeaderSize, STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** What a request Node's HTTP parser refused gets: the status Node would send, and why, in words. */
export function clientErrorResponse(error: NodeJS.ErrnoException): { status: number; message: string } {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        message: `request line and headers exceed ${maxHeaderSize} bytes, the server's limit (Node's --max-http-header-size); send fewer or shorter headers`,
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, message: 'chunk extensions of the request body exceed the server limit' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'the request was not received in full before the server timeout' };
    default:
      return {
        status: 400,
        message: `malformed HTTP request${error.code ? ` (${error.code})` : ''}: ${error.message}`,
      };
  }
}

/**
 * The method of the refused request, when the bytes the parser failed on begin with its request line (a
 * request that arrived in one piece); null when they do not tell.
 */
function refusedMethod(error: NodeJS.ErrnoException & { rawPacket?: Buffer }): string | null {
  const start = error.rawPacket?.subarray(0, 16).toString('latin1') ?? '';
  return /^([A-Z]+) /.exec(start)?.[1] ?? null;
}

/** The JSON body of an error answer, from its status, reason phrase and message. */
export type ErrorBodyShape = (status: number, reason: string, message: string) => unknown;

/** The gateway's JSON error shape (Nest's). */
export const gatewayErrorBody: ErrorBodyShape = (status, reason, message) => ({
  statusCode: status,
  message,
  error: reason,
});

/**
 * The raw HTTP/1.1 answer, in the given JSON error shape (default: the gateway's: statusCode, message, error).
 * An answer to HEAD carries the headers only, as HTTP requires.
 */
export function clientErrorAnswer(
  error: NodeJS.ErrnoException & { rawPacket?: Buffer },
  shape: ErrorBodyShape = gatewayErrorBody,
): string {
  const { status, message } = clientErrorResponse(error);
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify(shape(status, reason, message));
  return [
    `HTTP/1.1 ${status} ${reason}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    refusedMethod(error) === 'HEAD' ? '' : body,
  ].join('\r\n');
}

type ClientSocket = Duplex & { _httpMessage?: { headersSent?: boolean } | null };

/**
 * Replaces Node's own answer to a request its parser refuses (a bare status line, e.g. 431 for headers over
 * the limit) with a JSON error. As Node does, it answers only if no response has started on the socket,
 * then closes the connection: the parser cannot find where the next request would begin.
 */
export function answerClientError(
  error: NodeJS.ErrnoException,
  socket: ClientSocket,
  shape: ErrorBodyShape = gatewayErrorBody,
): void {
  if (error.code === 'ECONNRESET' || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorAnswer(error, shape), () => socket.destroy());
}

/** Installs answerClientError on the gateway's HTTP server. */
@Injectable()
export class ClientErrorAnswerer implements OnApplicationBootstrap {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    // An application context without HTTP (none today) has no adapter.
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    server?.on('clientError', (error: NodeJS.ErrnoException, socket: ClientSocket) =>
      answerClientError(error, socket),
    );
  }
}
