/**
 * `service_name` for streams pushed through Loki's API, as Loki 3's
 * distributor derives it (loki `pkg/loghttp/push/push.go`, the
 * `discover_service_name` limit): a stream without one takes the value of the
 * first label present from {@linkcode SERVICE_NAME_SOURCES}, else
 * `unknown_service`. Grafana's Logs Drilldown lists services by this label.
 *
 * @module
 */

/** Loki's default `discover_service_name` list, in order of precedence. */
export const SERVICE_NAME_SOURCES: readonly string[] = [
  "service",
  "app",
  "application",
  "app_name",
  "name",
  "app_kubernetes_io_name",
  "container",
  "container_name",
  "k8s_container_name",
  "component",
  "workload",
  "job",
  "k8s_job_name",
];

/** The value when no label names the service. */
export const UNKNOWN_SERVICE = "unknown_service";

/** Labels of Loki's internal streams, which get no `service_name`. */
const INTERNAL = ["__aggregated_metric__", "__pattern__"];

const present = (v: unknown): v is string => typeof v === "string" && v !== "";

/**
 * Adds `service_name` to `labels` unless it has one, is an internal stream,
 * or has no labels at all (validation refuses those).
 *
 * @example
 * ```ts
 * import { addServiceName } from "./service_name.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(addServiceName({ job: "cron", app: "web" }), { job: "cron", app: "web", service_name: "web" });
 * assert.deepEqual(addServiceName({ level: "info" }), { level: "info", service_name: "unknown_service" });
 * assert.deepEqual(addServiceName({ service_name: "api", app: "web" }), { service_name: "api", app: "web" });
 * assert.deepEqual(addServiceName({ app: "" }), { app: "" });
 * ```
 */
export function addServiceName(labels: Record<string, unknown>): Record<string, unknown> {
  if (
    present(labels.service_name) || INTERNAL.some((name) => present(labels[name])) ||
    !Object.values(labels).some(present)
  ) {
    return labels;
  }
  const source = SERVICE_NAME_SOURCES.find((name) => present(labels[name]));
  labels.service_name = source === undefined ? UNKNOWN_SERVICE : labels[source];
  return labels;
}
