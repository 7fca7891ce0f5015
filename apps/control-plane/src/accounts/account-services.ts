/** The account services built together from one set of dependencies, for wiring. */
import { createLoginService, type LoginService } from "./login.service.js";
import { createMeService, type MeService, type MeServiceDeps } from "./me.service.js";
import { createPasswordService, type PasswordService } from "./password.service.js";
import { createSignupService, type SignupService } from "./signup.service.js";

/** Sign-up, sign-in, passwords and the profile. */
export interface AccountServices {
  readonly signup: SignupService;
  readonly login: LoginService;
  readonly password: PasswordService;
  readonly me: MeService;
}

/** Builds every account service over the same store, JWT codec, mail and clock. */
export function createAccountServices(deps: MeServiceDeps): AccountServices {
  return {
    signup: createSignupService(deps),
    login: createLoginService(deps),
    password: createPasswordService(deps),
    me: createMeService(deps),
  };
}
