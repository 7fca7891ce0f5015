/** The control plane's liveness answer. */
import Type, { type Static } from "typebox";

/** `GET /health`. */
export const HealthResponse = Type.Object({
  status: Type.Literal("ok"),
  version: Type.String({ examples: ["0.1.0"] }),
});

// Static types: each schema above as a TypeScript type of the same name.
/** A value matching {@link HealthResponse}. */
export type HealthResponse = Static<typeof HealthResponse>;
