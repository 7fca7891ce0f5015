import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** The control plane's Prometheus registry and the HTTP metrics recorded for every request. */
export interface HttpMetrics {
  readonly registry: Registry;
}

/**
 * Registers request counters and latency histograms labelled by route pattern
 * (never the raw URL, whose ids would explode the label space) and serves
 * them at `GET /metrics` in the Prometheus text format. Each app gets its own
 * registry so several apps in one process (tests) do not collide.
 */
export function installMetrics(app: FastifyInstance): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "wrenn_cp_" });
  const requests = new Counter({
    name: "wrenn_cp_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "wrenn_cp_http_request_duration_seconds",
    help: "Time from request to response, by method and route pattern.",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    void reply.type(registry.contentType);
    return registry.metrics();
  });
  return { registry };
}
