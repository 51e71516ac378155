import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpException,
  Inject,
  Module,
  Post,
  type DynamicModule,
} from '@nestjs/common';
import type { LoadedPolicy } from '@recon/policy-runtime';
import { completeChat, InvalidChatRequestError, parseChatCompletionRequest } from './chat-completion';

/** What `recon serve` serves: a loaded checkpoint, the model id it answers to, and when it was loaded. */
export interface ServedPolicy {
  policy: LoadedPolicy;
  modelName: string;
  created: number;
}

export const SERVED_POLICY = Symbol('SERVED_POLICY');

/** The OpenAI-compatible routes: `POST /v1/chat/completions` and `GET /v1/models`. */
@Controller('v1')
export class ChatCompletionsController {
  constructor(@Inject(SERVED_POLICY) private readonly served: ServedPolicy) {}

  @Get('models')
  models() {
    return {
      object: 'list',
      data: [{ id: this.served.modelName, object: 'model', created: this.served.created, owned_by: 'recon' }],
    };
  }

  @Post('chat/completions')
  @HttpCode(200)
  chatCompletions(@Body() body: unknown) {
    try {
      return completeChat(this.served.policy, this.served.modelName, parseChatCompletionRequest(body));
    } catch (error) {
      const invalid = error instanceof InvalidChatRequestError;
      // OpenAI's error shape, so clients report the message.
      throw new HttpException(
        {
          error: {
            message: (error as Error).message,
            type: invalid ? 'invalid_request_error' : 'server_error',
            param: invalid ? error.param : null,
            code: null,
          },
        },
        invalid ? 400 : 500,
      );
    }
  }
}

/** A built-in checkpoint as an OpenAI-compatible chat server (no bearer token: a local model server). */
@Module({})
export class ServeModule {
  static forRoot(served: ServedPolicy): DynamicModule {
    return {
      module: ServeModule,
      controllers: [ChatCompletionsController],
      providers: [{ provide: SERVED_POLICY, useValue: served }],
    };
  }
}
