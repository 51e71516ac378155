import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Body, Controller, Get, Inject, Module, Param, Post, Res, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { ChatPolicy } from './chat-policy';
import { parseChatCompletionRequest, samplingFor } from './chat-completion';
import { OpenAiError, OpenAiErrorFilter } from './openai-error';
import { sampleChoices, type ChoiceSampling } from './sample-choices';

/** What `recon serve` serves: a loaded policy, the model id it answers to, and when it was loaded. */
export interface ServedPolicy {
  policy: ChatPolicy;
  modelName: string;
  created: number;
}

export const SERVED_POLICY = Symbol('SERVED_POLICY');

/** The fields every completion object and chunk of one request share. */
interface CompletionHeader {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

/** Aborted when the client goes away before the answer is complete. */
function abortedOnClose(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}

function usageOf(sampling: ChoiceSampling, completionTokens: number) {
  const promptTokens = sampling.promptIds.length;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/**
 * Server-sent events in OpenAI's `chat.completion.chunk` format: per choice a first chunk with the role,
 * chunks with content deltas, a last chunk with the finish reason; with `stream_options.include_usage` every
 * chunk has `usage: null` and a final chunk without choices carries the usage; then `data: [DONE]`.
 */
async function streamCompletion(
  response: ServerResponse,
  served: ServedPolicy,
  header: CompletionHeader,
  sampling: ChoiceSampling,
  includeUsage: boolean,
): Promise<void> {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const send = (choices: unknown[], usage?: ReturnType<typeof usageOf>) => {
    if (response.writableEnded || response.destroyed) return;
    const chunk = {
      ...header,
      object: 'chat.completion.chunk',
      choices,
      ...(includeUsage ? { usage: usage ?? null } : {}),
    };
    response.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  const choice = (index: number, delta: object, finishReason: string | null = null) => ({
    index,
    delta,
    logprobs: null,
    finish_reason: finishReason,
  });
  for (let index = 0; index < sampling.n; index++) send([choice(index, { role: 'assistant', content: '' })]);
  const choices = await sampleChoices(
    served.policy,
    sampling,
    {
      onText: (index, content) => send([choice(index, { content })]),
      onFinish: (index, reason) => send([choice(index, {}, reason)]),
    },
    abortedOnClose(response),
  );
  if (includeUsage) {
    send(
      [],
      usageOf(
        sampling,
        choices.reduce((sum, c) => sum + c.completionTokens, 0),
      ),
    );
  }
  if (!response.writableEnded) response.end('data: [DONE]\n\n');
}

/** The OpenAI-compatible routes: `POST /v1/chat/completions`, `GET /v1/models` and `GET /v1/models/:model`. */
@Controller('v1')
export class ChatCompletionsController {
  constructor(@Inject(SERVED_POLICY) private readonly served: ServedPolicy) {}

  private model() {
    return { id: this.served.modelName, object: 'model', created: this.served.created, owned_by: 'recon' };
  }

  @Get('models')
  models() {
    return { object: 'list', data: [this.model()] };
  }

  /** A model id may hold slashes (`org/name`). */
  @Get('models/*model')
  retrieveModel(@Param('model') segments: string | string[]) {
    const id = Array.isArray(segments) ? segments.join('/') : segments;
    if (id !== this.served.modelName)
      throw new OpenAiError(
        404,
        `the model '${id}' does not exist: this server serves '${this.served.modelName}'`,
        'model',
        'model_not_found',
      );
    return this.model();
  }

  @Post('chat/completions')
  async chatCompletions(@Body() body: unknown, @Res() response: ServerResponse): Promise<void> {
    const request = parseChatCompletionRequest(body);
    const { policy, modelName } = this.served;
    const sampling = samplingFor(policy, request);
    const header: CompletionHeader = {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model ?? modelName,
      system_fingerprint: policy.checkpointHash.slice(0, 16),
    };
    if (request.stream) {
      await streamCompletion(
        response,
        this.served,
        header,
        sampling,
        request.stream_options?.include_usage === true,
      );
      return;
    }
    const choices = await sampleChoices(policy, sampling, {}, abortedOnClose(response));
    const completion = {
      ...header,
      object: 'chat.completion',
      choices: choices.map((c, index) => ({
        index,
        message: { role: 'assistant', content: c.text, refusal: null },
        logprobs: null,
        finish_reason: c.finishReason,
      })),
      usage: usageOf(
        sampling,
        choices.reduce((sum, c) => sum + c.completionTokens, 0),
      ),
    };
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    response.end(JSON.stringify(completion));
  }
}

/** A checkpoint (built-in, or pretrained with adapters) as an OpenAI-compatible chat server; every error in OpenAI's shape. */
@Module({})
export class ServeModule {
  static forRoot(served: ServedPolicy): DynamicModule {
    return {
      module: ServeModule,
      controllers: [ChatCompletionsController],
      providers: [
        { provide: SERVED_POLICY, useValue: served },
        { provide: APP_FILTER, useClass: OpenAiErrorFilter },
      ],
    };
  }
}
