/** The gateway's routes, called with the token the user typed (sessionStorage, Authorization header). */
const TOKEN_KEY = 'recon.explorer.token';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(): HeadersInit {
  const value = token.get();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

export async function getJson<T>(
  path: string,
  signal?: AbortSignal,
  method: 'GET' | 'POST' = 'GET',
): Promise<{ body: T; response: Response }> {
  const response = await fetch(path, { method, headers: headers(), signal });
  const body = (await response.json().catch(() => null)) as T & { message?: string };
  if (!response.ok)
    throw new ApiError(response.status, body?.message ?? `${response.status} ${response.statusText}`);
  return { body, response };
}

/**
 * Server-sent events read with fetch (EventSource cannot send an Authorization header, and the token must not
 * go in a URL). Reconnects after a dropped stream until the signal aborts.
 */
export function subscribe(
  path: string,
  onEvent: (event: string, data: string) => void,
  signal: AbortSignal,
): void {
  const connect = async () => {
    try {
      const response = await fetch(path, { headers: { ...headers(), Accept: 'text/event-stream' }, signal });
      if (!response.ok || !response.body) throw new ApiError(response.status, 'stream refused');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of message.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length > 0) onEvent(event, data.join('\n'));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return;
    }
    if (!signal.aborted) setTimeout(() => void connect(), 3000);
  };
  void connect();
}
