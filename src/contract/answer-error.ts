/**
 * The base of errors that are answers, not bugs (a refusal, an OAuth error): no stack trace is
 * captured, since a flood of bad passwords raises thousands a second and the trace would cost more
 * than the rest of the refusal (measured in bench/).
 */
export class AnswerError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}
