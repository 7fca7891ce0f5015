/**
 * Small helpers for repositories' SQL parameters and results.
 */
import type { QueryResult } from "./database.js";

/**
 * A JSON parameter, bound as text and cast in SQL (`$1::jsonb`): see `SqlParam`
 * for why JSON never goes in as an object or array.
 */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * Escapes LIKE's wildcards so user input matches literally; use with
 * `LIKE $1 ESCAPE '\'`. Without it, "a_b%" would match far more than itself.
 */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The first row, or undefined when there is none. */
export function firstRow<TRow>(result: QueryResult<TRow>): TRow | undefined {
  return result.rows[0];
}

/**
 * The only row of a statement that must return exactly one (INSERT …
 * RETURNING, aggregates); throws if the database broke that promise.
 */
export function onlyRow<TRow>(result: QueryResult<TRow>): TRow {
  const row = result.rows[0];
  if (row === undefined || result.rows.length !== 1) {
    throw new Error(`expected exactly one row, got ${result.rows.length}`);
  }
  return row;
}
