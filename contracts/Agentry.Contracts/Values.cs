using System.Text.Json;
using System.Text.Json.Serialization;

namespace Agentry.Contracts;

/// <summary>Token counts of one or more model calls.</summary>
/// <param name="InputTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Completion tokens.</param>
public sealed record TokenUsage(int InputTokens, int OutputTokens)
{
    /// <summary>No tokens.</summary>
    public static readonly TokenUsage None = new(0, 0);

    /// <summary>Input and output tokens together.</summary>
    public int Total => InputTokens + OutputTokens;

    /// <summary>The sum of two usages.</summary>
    public static TokenUsage operator +(TokenUsage left, TokenUsage right) =>
        new(left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens);

    /// <summary>The sum of two usages.</summary>
    public static TokenUsage Add(TokenUsage left, TokenUsage right) => left + right;
}

/// <summary>Limits that override the agent definition's for one run; null keeps the agent's value.</summary>
/// <param name="MaxSteps">Most planning steps.</param>
/// <param name="MaxTokens">Most tokens over all model calls.</param>
/// <param name="Deadline">Most wall-clock time from the start of the run.</param>
/// <param name="MaxCost">Most spend over all model calls, in US dollars.</param>
public sealed record RunLimits(int? MaxSteps = null, int? MaxTokens = null, TimeSpan? Deadline = null, decimal? MaxCost = null);

/// <summary>A tool call the model proposed.</summary>
/// <param name="CallId">Unique within the run; ties the result to the call.</param>
/// <param name="Tool">The tool's registered name.</param>
/// <param name="Arguments">The arguments as a JSON object.</param>
public sealed record ToolCall(string CallId, string Tool, JsonElement Arguments);

/// <summary>The outcome of one tool call.</summary>
/// <param name="CallId">The call this answers.</param>
/// <param name="Tool">The tool's name.</param>
/// <param name="Arguments">The arguments it was called with.</param>
/// <param name="Output">The tool's output (text or JSON), empty on error.</param>
/// <param name="ErrorKind">None when the call succeeded.</param>
/// <param name="Error">What went wrong, in words, when it failed.</param>
/// <param name="Duration">How long the call took.</param>
/// <param name="OutputRef">Set when the output was larger than the payload store's inline limit: the whole
/// output is kept out of line (claim check) and Output holds only its beginning and a note. Null: Output
/// is the whole output.</param>
public sealed record ToolOutcome(
    string CallId,
    string Tool,
    JsonElement Arguments,
    string Output,
    ToolErrorKind ErrorKind,
    string? Error,
    TimeSpan Duration,
    PayloadRef? OutputRef = null)
{
    /// <summary>True when the tool produced an output.</summary>
    public bool Succeeded => ErrorKind == ToolErrorKind.None;
}

/// <summary>A payload kept out of line (claim check): a tool output, a run's input or a model's output larger
/// than the payload store's inline limit is stored once, under the hash of its content, and messages and the
/// run state carry this instead (docs/durability.md).</summary>
/// <param name="Id">"sha256:" and the lower-case hex SHA-256 of the content: the same content has the same id.</param>
/// <param name="Size">The content's length in bytes.</param>
/// <param name="MediaType">What the content is, such as text/plain or application/json.</param>
/// <param name="Store">Where it is kept: file, redis or mongodb; a reader resolves it from there.</param>
public sealed record PayloadRef(string Id, long Size, string MediaType, string Store);

/// <summary>Roles of the messages in a planning context.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ContextRole>))]
public enum ContextRole
{
    /// <summary>Instructions to the model.</summary>
    System,
    /// <summary>The user's goal and input.</summary>
    User,
    /// <summary>The model's earlier turns: thoughts and tool calls.</summary>
    Assistant,
    /// <summary>A tool's result, answering one call.</summary>
    Tool,
}

/// <summary>One message of the context handed to the model.</summary>
/// <param name="Role">Who speaks.</param>
/// <param name="Content">The text.</param>
/// <param name="ToolCalls">The calls an assistant turn made.</param>
/// <param name="CallId">The call a tool turn answers.</param>
public sealed record ContextMessage(
    ContextRole Role,
    string Content,
    IReadOnlyList<ToolCall>? ToolCalls = null,
    string? CallId = null);

/// <summary>A plan-and-execute agent's plan: ordered steps, each a tool call or a sub-goal.</summary>
/// <param name="Revision">0 for the first plan, then 1, 2, ... for each re-plan.</param>
/// <param name="Steps">The steps, numbered from 1 in this order.</param>
public sealed record Plan(int Revision, IReadOnlyList<PlanStep> Steps);

/// <summary>One step of a plan.</summary>
/// <param name="Number">1-based position in the plan.</param>
/// <param name="Description">What the step is for.</param>
/// <param name="Tool">The tool to call; null for a sub-goal, whose calls the model chooses when the step runs.</param>
/// <param name="Arguments">The tool's arguments, with a tool.</param>
/// <param name="DependsOn">Numbers of earlier steps that must be done first; empty when the step can run at once.</param>
public sealed record PlanStep(int Number, string Description, string? Tool, JsonElement? Arguments, IReadOnlyList<int> DependsOn);

/// <summary>The saga's request to a plan-and-execute planning call.</summary>
/// <param name="Action">What to do.</param>
/// <param name="Plan">The current plan (none before the first).</param>
/// <param name="Steps">With RunSteps: the numbers of the plan steps to run now, in parallel.</param>
/// <param name="Reason">With Replan: what went wrong, shown to the model.</param>
public sealed record PlanRequest(PlanAction Action, Plan? Plan = null, IReadOnlyList<int>? Steps = null, string? Reason = null);

/// <summary>What a person told an escalated run when resuming it.</summary>
/// <param name="Text">The guidance, in words.</param>
/// <param name="By">Who gave it.</param>
public sealed record Guidance(string Text, string By);

/// <summary>A message for a person, on any channel: a title (a mail subject), the text, and a link to the run.</summary>
/// <param name="Event">What it is about, such as run.escalated or approval.requested.</param>
/// <param name="Title">One line.</param>
/// <param name="Text">Plain text, lines separated by newlines.</param>
/// <param name="Link">Where to see the run, when the Gateway's public URL is configured.</param>
/// <param name="Body">The JSON a webhook receives; null: a body made of the fields above.</param>
/// <param name="Key">What makes two notifications the same one, such as run.completed:RUNID:STEPS: each channel
/// delivers a key once, and a webhook receives it as the Idempotency-Key header. Null: the event, run and title.</param>
public sealed record Notification(string Event, string Title, string Text, Uri? Link = null, JsonElement? Body = null, string? Key = null);
