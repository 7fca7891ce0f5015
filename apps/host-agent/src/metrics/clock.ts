/** The agent's timers use the shared clock of `@wrenn/kit` (re-exported so imports stay local). */
export { type Clock, ManualClock, systemClock, type TimerHandle } from "@wrenn/kit";
