/**
 * Ids of the rows the migrations seed (0008_platform_seed). Kept here so code
 * and SQL agree on them.
 */

/** The platform team: owner of global templates and admin capsules; never has members. */
export const PLATFORM_TEAM_ID = "00000000-0000-0000-0000-000000000000";

/** The built-in base template every team can use. */
export const MINIMAL_TEMPLATE_ID = "00000000-0000-0000-0000-000000000000";

/** Name capsules use to ask for the built-in base template. */
export const MINIMAL_TEMPLATE_NAME = "minimal";
