/** The teacher is an OpenAI-compatible chat server; its client is shared with external evaluation. */
export {
  chatCompletionsUrl,
  traceTextOf,
  postChatCompletion as askTeacher,
  type ChatRequest,
  type ChatOutcome as TeacherOutcome,
} from '@recon/openai-chat';
