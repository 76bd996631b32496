/** What the OAuth logic needs to know of a request, without knowing HTTP. */
import type { OAuthError } from '../tokens/oauth-error.js';

export interface OAuthCaller {
  /** The request id, for hooks that record what is about to happen. */
  requestId: string;
  /** The client address the throttle counts attempts under. */
  address: string;
  /**
   * The refusal of a password or client secret that crossed a network in the clear, or null when
   * secrets are welcome on this request; the front end knows the transport, this layer does not.
   */
  secretRefusal(what: 'password' | 'client secret'): OAuthError | null;
}
