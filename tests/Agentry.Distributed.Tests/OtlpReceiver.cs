using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Agentry.Distributed.Tests;

public sealed record ReceivedSpan(
    string Service, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, object?> Attributes)
{
    public string? Tag(string key) => Attributes.TryGetValue(key, out var value) ? value?.ToString() : null;
}

public sealed record ReceivedLog(string Service, string TraceId, string Body);

/// One export request as it arrived, undecoded: Signal is traces, logs or metrics.
public sealed record ReceivedExport(string Signal, byte[] Body, IReadOnlyDictionary<string, string> Headers);

/// What an OpenTelemetry collector does for the services in these tests: takes OTLP/HTTP exports
/// (protobuf, the protocol the services are configured with, OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)
/// and keeps the spans and log records. The OTLP message types are not published as a package here,
/// so the few fields the tests read are decoded with Google.Protobuf's wire reader, by the field
/// numbers of opentelemetry-proto (collector/trace/v1, trace/v1, logs/v1, common/v1, resource/v1);
/// every other field is skipped. See docs/decisions/0009-otlp-receiver-in-tests.md.
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    private readonly ConcurrentQueue<ReceivedLog> _logs = new();
    private readonly ConcurrentQueue<ReceivedExport> _exports = new();
    private WebApplication _app = null!;
    private TaskCompletionSource _nextExport = NewSignal();

    public string Endpoint { get; private set; } = "";

    public IReadOnlyList<ReceivedSpan> Spans => [.. _spans];

    public IReadOnlyList<ReceivedLog> Logs => [.. _logs];

    /// Every request body of every signal, metrics included, with all the fields the decoding above
    /// skips (span events and status, log attributes and scopes, resources): for a test that must
    /// see everything a service sent, such as one looking for secrets.
    public IReadOnlyList<ReceivedExport> Exports => [.. _exports];

    /// The variables that point a service's exporter here, with short batch delays so a test
    /// does not wait the default five seconds for its spans.
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        ["OTEL_BLRP_SCHEDULE_DELAY"] = "100",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "60000",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var receiver = new OtlpReceiver();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/v1/traces", (HttpRequest request) => receiver.Receive(request, "traces", receiver.ReadTraces));
        app.MapPost("/v1/logs", (HttpRequest request) => receiver.Receive(request, "logs", receiver.ReadLogs));
        app.MapPost("/v1/metrics", (HttpRequest request) => receiver.Receive(request, "metrics", _ => { }));
        await app.StartAsync();
        receiver._app = app;
        receiver.Endpoint = app.Urls.First();
        return receiver;
    }

    /// Completes when the next export has been read.
    public Task NextExportAsync() => Volatile.Read(ref _nextExport).Task;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> Receive(HttpRequest request, string signal, Action<CodedInputStream> read)
    {
        if (request.ContentType != "application/x-protobuf")
        {
            return Results.StatusCode(StatusCodes.Status415UnsupportedMediaType);
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        _exports.Enqueue(new ReceivedExport(signal, bytes, request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        read(new CodedInputStream(bytes));
        Interlocked.Exchange(ref _nextExport, NewSignal()).TrySetResult();
        // An empty Export*ServiceResponse: everything was accepted.
        return Results.Bytes([], "application/x-protobuf");
    }

    // ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
    private void ReadTraces(CodedInputStream input) =>
        ForEach(input, (field, stream) =>
        {
            if (field == 1)
            {
                ReadResourceSpans(Nested(stream));
            }
            else
            {
                stream.SkipLastField();
            }
        });

    // ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
    private void ReadResourceSpans(CodedInputStream input)
    {
        var service = "";
        var scopes = new List<ByteString>();
        ForEach(input, (field, stream) =>
        {
            switch (field)
            {
                case 1: service = ServiceName(Nested(stream)); break;
                case 2: scopes.Add(stream.ReadBytes()); break;
                default: stream.SkipLastField(); break;
            }
        });
        foreach (var scope in scopes)
        {
            // ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
            ForEach(scope.CreateCodedInput(), (field, stream) =>
            {
                if (field == 2)
                {
                    _spans.Enqueue(ReadSpan(service, Nested(stream)));
                }
                else
                {
                    stream.SkipLastField();
                }
            });
        }
    }

    // Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5;
    //        SpanKind kind = 6; repeated KeyValue attributes = 9; }
    private static ReceivedSpan ReadSpan(string service, CodedInputStream input)
    {
        string traceId = "", spanId = "", parentId = "", name = "";
        var kind = 0;
        var attributes = new Dictionary<string, object?>();
        ForEach(input, (field, stream) =>
        {
            switch (field)
            {
                case 1: traceId = Hex(stream.ReadBytes()); break;
                case 2: spanId = Hex(stream.ReadBytes()); break;
                case 4: parentId = Hex(stream.ReadBytes()); break;
                case 5: name = stream.ReadString(); break;
                case 6: kind = stream.ReadEnum(); break;
                case 9:
                    var (key, value) = ReadKeyValue(Nested(stream));
                    attributes[key] = value;
                    break;
                default: stream.SkipLastField(); break;
            }
        });
        return new ReceivedSpan(service, traceId, spanId, parentId, name, kind, attributes);
    }

    // ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
    // ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
    // ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
    // LogRecord { AnyValue body = 5; bytes trace_id = 9; }
    private void ReadLogs(CodedInputStream input) =>
        ForEach(input, (field, stream) =>
        {
            if (field != 1)
            {
                stream.SkipLastField();
                return;
            }

            var service = "";
            var scopes = new List<ByteString>();
            ForEach(Nested(stream), (resourceField, resource) =>
            {
                switch (resourceField)
                {
                    case 1: service = ServiceName(Nested(resource)); break;
                    case 2: scopes.Add(resource.ReadBytes()); break;
                    default: resource.SkipLastField(); break;
                }
            });
            foreach (var scope in scopes)
            {
                ForEach(scope.CreateCodedInput(), (scopeField, records) =>
                {
                    if (scopeField != 2)
                    {
                        records.SkipLastField();
                        return;
                    }

                    string traceId = "", body = "";
                    ForEach(Nested(records), (recordField, record) =>
                    {
                        switch (recordField)
                        {
                            case 5: body = ReadAnyValue(Nested(record))?.ToString() ?? ""; break;
                            case 9: traceId = Hex(record.ReadBytes()); break;
                            default: record.SkipLastField(); break;
                        }
                    });
                    _logs.Enqueue(new ReceivedLog(service, traceId, body));
                });
            }
        });

    // Resource { repeated KeyValue attributes = 1; }
    private static string ServiceName(CodedInputStream input)
    {
        var name = "";
        ForEach(input, (field, stream) =>
        {
            if (field == 1 && ReadKeyValue(Nested(stream)) is ("service.name", var value))
            {
                name = value?.ToString() ?? "";
            }
            else if (field != 1)
            {
                stream.SkipLastField();
            }
        });
        return name;
    }

    // KeyValue { string key = 1; AnyValue value = 2; }
    private static (string Key, object? Value) ReadKeyValue(CodedInputStream input)
    {
        var key = "";
        object? value = null;
        ForEach(input, (field, stream) =>
        {
            switch (field)
            {
                case 1: key = stream.ReadString(); break;
                case 2: value = ReadAnyValue(Nested(stream)); break;
                default: stream.SkipLastField(); break;
            }
        });
        return (key, value);
    }

    // AnyValue { oneof { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ... } }
    private static object? ReadAnyValue(CodedInputStream input)
    {
        object? value = null;
        ForEach(input, (field, stream) =>
        {
            switch (field)
            {
                case 1: value = stream.ReadString(); break;
                case 2: value = stream.ReadBool(); break;
                case 3: value = stream.ReadInt64(); break;
                case 4: value = stream.ReadDouble(); break;
                default: stream.SkipLastField(); break;
            }
        });
        return value;
    }

    private static void ForEach(CodedInputStream input, Action<int, CodedInputStream> field)
    {
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            field(WireFormat.GetTagFieldNumber(tag), input);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static CodedInputStream Nested(CodedInputStream input) => input.ReadBytes().CreateCodedInput();

    private static string Hex(ByteString bytes) => Convert.ToHexStringLower(bytes.Span);
}
