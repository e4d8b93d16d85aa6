namespace Agentry.Tests.Gateway.Tracing;

/// What jaeger-query's GET /api/traces answers, in the shape of its HTTP API: the structured
/// response {data, total, limit, offset, errors} around traces in Jaeger's UI model (model/json:
/// traceID, spans with spanID, operationName, references, startTime and duration in microseconds,
/// tags as {key, type, value}, processID; processes with serviceName). The tags are the ones
/// Jaeger's OTLP receiver writes for OpenTelemetry spans: span.kind, otel.status_code, error,
/// otel.scope.name. Written from Jaeger's documentation and its test fixtures, not captured from a
/// running Jaeger (none can be installed here).
internal static class JaegerAnswers
{
    /// One run's trace: the Gateway's POST /runs publishes GoalReceived; the Planner receives it
    /// 30 ms later, its first try fails and the second succeeds; then the model call of step 1.
    public static string OneRun(Guid runId) => """
        {
          "data": [
            {
              "traceID": "4bf92f3577b34da6a3ce929d0e0e4736",
              "spans": [
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "00f067aa0ba902b7", "flags": 1,
                  "operationName": "POST /runs/", "references": [],
                  "startTime": 1765022400000000, "duration": 12000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "Microsoft.AspNetCore" },
                    { "key": "http.request.method", "type": "string", "value": "POST" },
                    { "key": "http.response.status_code", "type": "int64", "value": 202 },
                    { "key": "span.kind", "type": "string", "value": "server" },
                    { "key": "internal.span.format", "type": "string", "value": "otlp" }
                  ],
                  "logs": [], "processID": "p1", "warnings": null
                },
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "a1b2c3d4e5f60718", "flags": 1,
                  "operationName": "urn:message:Agentry.Contracts:GoalReceived send",
                  "references": [ { "refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "00f067aa0ba902b7" } ],
                  "startTime": 1765022400005000, "duration": 3000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "MassTransit" },
                    { "key": "messaging.operation", "type": "string", "value": "send" },
                    { "key": "messaging.system", "type": "string", "value": "rabbitmq" },
                    { "key": "span.kind", "type": "string", "value": "producer" }
                  ],
                  "logs": [], "processID": "p1", "warnings": null
                },
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "b1b2c3d4e5f60718", "flags": 1,
                  "operationName": "agent-run-state receive",
                  "references": [ { "refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "a1b2c3d4e5f60718" } ],
                  "startTime": 1765022400035000, "duration": 60000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "MassTransit" },
                    { "key": "messaging.operation", "type": "string", "value": "receive" },
                    { "key": "messaging.destination.name", "type": "string", "value": "agent-run-state" },
                    { "key": "span.kind", "type": "string", "value": "consumer" }
                  ],
                  "logs": [], "processID": "p2", "warnings": null
                },
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "c1b2c3d4e5f60718", "flags": 1,
                  "operationName": "agent-run-state process",
                  "references": [ { "refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "b1b2c3d4e5f60718" } ],
                  "startTime": 1765022400036000, "duration": 9000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "MassTransit" },
                    { "key": "messaging.operation", "type": "string", "value": "process" },
                    { "key": "messaging.masstransit.consumer_type", "type": "string", "value": "AgentRunState" },
                    { "key": "span.kind", "type": "string", "value": "consumer" },
                    { "key": "otel.status_code", "type": "string", "value": "ERROR" },
                    { "key": "error", "type": "bool", "value": true }
                  ],
                  "logs": [
                    { "timestamp": 1765022400044000, "fields": [ { "key": "event", "type": "string", "value": "exception" }, { "key": "exception.type", "type": "string", "value": "MassTransit.Saga.SagaConcurrencyException" } ] }
                  ],
                  "processID": "p2", "warnings": null
                },
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "d1b2c3d4e5f60718", "flags": 1,
                  "operationName": "agent-run-state process",
                  "references": [ { "refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "b1b2c3d4e5f60718" } ],
                  "startTime": 1765022400050000, "duration": 40000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "MassTransit" },
                    { "key": "messaging.operation", "type": "string", "value": "process" },
                    { "key": "messaging.masstransit.consumer_type", "type": "string", "value": "AgentRunState" },
                    { "key": "span.kind", "type": "string", "value": "consumer" }
                  ],
                  "logs": [], "processID": "p2", "warnings": null
                },
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "e1b2c3d4e5f60718", "flags": 1,
                  "operationName": "saga GoalReceived",
                  "references": [ { "refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "d1b2c3d4e5f60718" } ],
                  "startTime": 1765022400051000, "duration": 30000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "Agentry" },
                    { "key": "agentry.run_id", "type": "string", "value": "{{runId}}" },
                    { "key": "agentry.step", "type": "int64", "value": 1 },
                    { "key": "agentry.stage", "type": "string", "value": "saga" },
                    { "key": "span.kind", "type": "string", "value": "internal" }
                  ],
                  "logs": [], "processID": "p2", "warnings": null
                },
                {
                  "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "f1b2c3d4e5f60718", "flags": 1,
                  "operationName": "chat gpt-4o-mini",
                  "references": [ { "refType": "CHILD_OF", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "spanID": "e1b2c3d4e5f60718" } ],
                  "startTime": 1765022400100000, "duration": 850000,
                  "tags": [
                    { "key": "otel.scope.name", "type": "string", "value": "Agentry" },
                    { "key": "agentry.run_id", "type": "string", "value": "{{runId}}" },
                    { "key": "agentry.step", "type": "int64", "value": 1 },
                    { "key": "agentry.stage", "type": "string", "value": "plan" },
                    { "key": "gen_ai.request.model", "type": "string", "value": "gpt-4o-mini" },
                    { "key": "span.kind", "type": "string", "value": "client" },
                    { "key": "otel.status_code", "type": "string", "value": "OK" }
                  ],
                  "logs": [], "processID": "p2", "warnings": null
                }
              ],
              "processes": {
                "p1": { "serviceName": "agentry-gateway", "tags": [ { "key": "service.instance.id", "type": "string", "value": "gateway-0/1" }, { "key": "telemetry.sdk.language", "type": "string", "value": "dotnet" } ] },
                "p2": { "serviceName": "agentry-planner", "tags": [ { "key": "service.instance.id", "type": "string", "value": "planner-0/1" }, { "key": "telemetry.sdk.language", "type": "string", "value": "dotnet" } ] }
              },
              "warnings": null
            }
          ],
          "total": 0,
          "limit": 0,
          "offset": 0,
          "errors": null
        }
        """.Replace("{{runId}}", runId.ToString(), StringComparison.Ordinal);

    /// What jaeger-query answers a search it cannot run.
    public const string BadRequest = """{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":400,"msg":"parameter 'service' is required"}]}""";
}
