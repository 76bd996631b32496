/**
 * The one place enrollers are registered. The RA asks `forPrincipal` and acts on the decision; a new
 * kind of caller is one more Enroller and one more `register` call, nothing in the RA changes.
 */
import type { AuthMethod, Clock, Principal } from '../../types.js';
import { AcmeAccountEnroller } from './acme-account.js';
import { AutosignEnroller } from './autosign.js';
import { ClientCertificateEnroller } from './client-certificate.js';
import type { Enroller } from './enroller.js';
import { EnrollmentTokenEnroller, type EnrollmentUsesPort } from './enrollment-token.js';
import { HostAccountEnroller } from './host-account.js';
import { OperatorEnroller } from './operator.js';

export type { EnrollContext, EnrollDecision, Enroller } from './enroller.js';
export type { EnrollmentUsesPort } from './enrollment-token.js';

export class EnrollerRegistry {
  private readonly byMethod = new Map<AuthMethod, Enroller[]>();
  /** Who speaks for a principal no registered enroller accepts: the autosign policy, as for anonymous. */
  private readonly fallback: Enroller = new AutosignEnroller();

  /** Adds an enroller under each of its methods, after those registered before it. */
  register(enroller: Enroller): this {
    for (const method of enroller.methods) {
      const list = this.byMethod.get(method) ?? [];
      list.push(enroller);
      this.byMethod.set(method, list);
    }
    return this;
  }

  forPrincipal(principal: Principal): Enroller {
    // An anonymous principal is never treated as anything else, whatever method it carries.
    const method: AuthMethod = principal.anonymous ? 'anonymous' : principal.method;
    const found = this.byMethod.get(method)?.find((e) => e.accepts(principal));
    return found ?? this.fallback;
  }
}

/** The enrollers every instance has: anonymous/autosign, operator, host account, enrollment token, client certificate, ACME account. */
export function defaultEnrollers(deps: {
  enrollmentUses: EnrollmentUsesPort;
  clock: Clock;
}): EnrollerRegistry {
  return new EnrollerRegistry()
    .register(new AutosignEnroller())
    .register(new OperatorEnroller())
    .register(new HostAccountEnroller())
    .register(new EnrollmentTokenEnroller(deps.enrollmentUses, deps.clock))
    .register(new ClientCertificateEnroller())
    .register(new AcmeAccountEnroller());
}
