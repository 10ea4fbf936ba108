/** An error reply of the server, or a transport failure (code TRANSPORT). */
export class StagekvError extends Error {
  constructor(message: string, options?: { code?: string; command?: string; cause?: unknown });
  /** The server's code word (ERR, INVALID, NOTFOUND, INSUFFICIENT_FUNDS, CONFLICT) or TRANSPORT. */
  readonly code: string;
  /** The command that failed, e.g. "COINS.SPEND". */
  readonly command: string | undefined;
}
/** -INVALID: a bad argument (id, JSON, amount, date, section, LIMIT). */
export class InvalidError extends StagekvError {}
/** -NOTFOUND: the document to update or the ticket is missing. */
export class NotFoundError extends StagekvError {}
/** -CONFLICT: uid or email taken, payment already recorded, IDEMP key reused for another request. */
export class ConflictError extends StagekvError {}
/** -INSUFFICIENT_FUNDS: nothing changed. */
export class InsufficientFundsError extends StagekvError {
  readonly balance: number | undefined;
  readonly need: number | undefined;
}
/** The connection failed and the retry policy gave up, or may not retry the command. */
export class TransportError extends StagekvError {
  constructor(
    message: string,
    options?: { command?: string; cause?: unknown; attempts?: number; retrySafe?: boolean },
  );
  /** How many attempts were made. */
  readonly attempts: number;
  /**
   * false: the command was not safe to repeat and was sent once; it may or
   * may not have been applied.
   */
  readonly retrySafe: boolean;
}
/** The typed error of an error reply ("CODE message"). */
export function errorFromReply(text: string, command?: string, cause?: unknown): StagekvError;
