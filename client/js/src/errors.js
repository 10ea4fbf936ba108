// Typed errors of @stagekv/client.
//
// The server's error replies begin with a code word (SPEC §4): INVALID,
// NOTFOUND, INSUFFICIENT_FUNDS, CONFLICT, or Redis's ERR. Each becomes its own
// class so callers can `instanceof` instead of matching message text. A
// connection that stays broken after the retry policy gave up is a
// TransportError: never an empty result.

export class StagekvError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, command?: string, cause?: unknown}} [opts]
   */
  constructor(message, opts = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    /** The server's code word (ERR, INVALID, ...) or TRANSPORT. */
    this.code = opts.code ?? "ERR";
    /** The command that failed, e.g. "COINS.SPEND". */
    this.command = opts.command;
  }
}

export class InvalidError extends StagekvError {}
export class NotFoundError extends StagekvError {}
export class ConflictError extends StagekvError {}

export class InsufficientFundsError extends StagekvError {
  constructor(message, opts = {}) {
    super(message, opts);
    // "INSUFFICIENT_FUNDS balance N, need M"
    const m = /balance (\d+), need (\d+)/.exec(message);
    /** The balance at the time of the refusal, when the server named it. */
    this.balance = m ? Number(m[1]) : undefined;
    /** The amount that was asked for. */
    this.need = m ? Number(m[2]) : undefined;
  }
}

/** The connection failed and the retry policy gave up (or may not retry). */
export class TransportError extends StagekvError {
  /**
   * @param {string} message
   * @param {{command?: string, cause?: unknown, attempts?: number, retrySafe?: boolean}} [opts]
   */
  constructor(message, opts = {}) {
    super(message, { ...opts, code: "TRANSPORT" });
    /** How many times the command was sent (or tried to be). */
    this.attempts = opts.attempts ?? 1;
    /**
     * Whether the command was safe to repeat. When false, the command may or
     * may not have been applied by the server: the caller must find out
     * (e.g. read the state back) before trying again.
     */
    this.retrySafe = opts.retrySafe ?? false;
  }
}

const BY_CODE = {
  INVALID: InvalidError,
  NOTFOUND: NotFoundError,
  INSUFFICIENT_FUNDS: InsufficientFundsError,
  CONFLICT: ConflictError,
};

/**
 * The typed error of a server error reply ("CODE message").
 * @param {string} text the reply without its leading '-'
 * @param {string} [command]
 * @param {unknown} [cause]
 */
export function errorFromReply(text, command, cause) {
  const space = text.indexOf(" ");
  const word = space < 0 ? text : text.slice(0, space);
  const Cls = BY_CODE[word] ?? StagekvError;
  return new Cls(text, { code: /^[A-Z_]+$/.test(word) ? word : "ERR", command, cause });
}
