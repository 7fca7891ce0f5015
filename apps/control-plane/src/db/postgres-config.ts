/**
 * node-postgres client settings shared by the pool and the LISTEN connection,
 * above all the type parsers that make results match PGlite's (database.ts).
 */
import pg from "pg";

const INT8_OID = 20;
const DATE_OID = 1082;

/** int8 → number, date → 'YYYY-MM-DD'; every other type as node-postgres parses it. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === DATE_OID) return (value: string) => value;
    return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid, "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** Client settings for `connectionString`. @internal */
export function clientConfig(connectionString: string): pg.ClientConfig {
  return { connectionString, types: TYPES, application_name: "wrenn-control-plane" };
}
