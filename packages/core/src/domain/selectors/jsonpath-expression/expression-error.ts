/**
 * A problem in a `jsonpath` expression; the message already says where ("at position 17",
 * counted from 0 like JSON.parse). The selector compiler turns it into `invalid_selector`.
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}
