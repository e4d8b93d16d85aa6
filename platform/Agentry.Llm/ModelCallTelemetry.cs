using System.Diagnostics;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Telemetry;
using static Agentry.ServiceDefaults.Telemetry.AgentryTelemetry;

namespace Agentry.Llm;

/// The span and metrics of one planning call, in the GenAI semantic conventions. The span is
/// Activity.Current while the model is asked, so the layers inside the call (fallback, cache)
/// add their own tags to it; a tag they set is never overwritten here.
public sealed class ModelCallTelemetry : IDisposable
{
    public const string OfflineProvider = "agentry.offline";

    /// Any OpenAI-compatible endpoint is spoken to with OpenAI's protocol.
    public const string OpenAiProvider = "openai";

    private readonly Activity? _activity;
    private readonly string _model;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string? _errorType;

    private ModelCallTelemetry(Activity? activity, string model)
    {
        _activity = activity;
        _model = model;
    }

    public static ModelCallTelemetry Start(ChatModelInfo model, Guid runId, int step)
    {
        var provider = model.IsOffline ? OfflineProvider : OpenAiProvider;
        var activity = StartStage($"chat {model.Name}", Stages.Plan, runId, step, ActivityKind.Client);
        activity?.SetTag(Tags.GenAiOperation, "chat")
            .SetTag(Tags.GenAiProvider, provider)
            .SetTag(Tags.GenAiSystem, provider)
            .SetTag(Tags.GenAiRequestModel, model.Name);
        return new ModelCallTelemetry(activity, model.Name);
    }

    public void Succeeded(string? responseModel, TokenUsage usage, decimal cost = 0)
    {
        var model = _activity?.GetTagItem(Tags.GenAiResponseModel) as string ?? responseModel ?? _model;
        _activity?.SetTag(Tags.GenAiResponseModel, model)
            .SetTag(Tags.GenAiInputTokens, usage.InputTokens)
            .SetTag(Tags.GenAiOutputTokens, usage.OutputTokens);
        Tokens.Add(usage.InputTokens, new(Tags.GenAiTokenType, "input"), new(Tags.GenAiRequestModel, _model));
        Tokens.Add(usage.OutputTokens, new(Tags.GenAiTokenType, "output"), new(Tags.GenAiRequestModel, _model));
        if (cost > 0)
        {
            Cost.Add((double)cost, new KeyValuePair<string, object?>(Tags.GenAiRequestModel, _model));
        }
    }

    public void Failed(Exception exception)
    {
        _errorType = exception.GetType().FullName ?? exception.GetType().Name;
        _activity.Fail(_errorType, exception.Message);
    }

    public void Dispose()
    {
        var seconds = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var tags = new TagList { { Tags.GenAiOperation, "chat" }, { Tags.GenAiRequestModel, _model } };
        if (_errorType is not null)
        {
            tags.Add(Tags.ErrorType, _errorType);
        }

        ModelCallDuration.Record(seconds, tags);
        StageDuration.Record(seconds, new KeyValuePair<string, object?>(Tags.Stage, Stages.Plan));
        _activity?.Dispose();
    }
}
