/**
 * @module
 * TypeBox schemas of Wrenn's public REST API (`/v1`) and the catalog of error
 * reasons. The control plane validates requests and serialises responses with
 * them; the SDK and CLI take their types from here.
 */
export {};
