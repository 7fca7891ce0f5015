/**
 * `@peculiar/x509`, loaded after the `Reflect` metadata functions it needs.
 * Import the library through this module only: module evaluation follows
 * import order, and this file is where that order is guaranteed.
 */
import "./reflect-metadata.js";

export * from "@peculiar/x509";
