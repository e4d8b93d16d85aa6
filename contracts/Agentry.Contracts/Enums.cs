using System.Text.Json.Serialization;

// Enums travel as their names, so that publishers in other languages can read and write them.
namespace Agentry.Contracts;

/// <summary>Where a run stands, as every service reads and writes it (Memory's record, the Gateway,
/// the Notifier's outcome); the saga's finer states (LoadingContext, Planning, ...) are all Running.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    /// <summary>Started and not ended (or escalated and resumed).</summary>
    Running,
    /// <summary>Ended with an answer.</summary>
    Completed,
    /// <summary>Ended without an answer: a limit, a refusal or an error; the reason says which.</summary>
    Failed,
    /// <summary>Waiting for a person, who may resume or close it.</summary>
    Escalated,
    /// <summary>Stopped by a person or by its parent run.</summary>
    Cancelled,
}

/// <summary>What the Evaluator concluded about a step.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<Verdict>))]
public enum Verdict
{
    /// <summary>The goal is not met yet: plan the next step.</summary>
    Continue,
    /// <summary>The goal is met: deliver the final answer.</summary>
    Complete,
    /// <summary>A person should take over.</summary>
    Escalate,
    /// <summary>The run cannot succeed.</summary>
    Fail,
    /// <summary>The plan no longer fits (plan-and-execute agents): write a revised plan. A ReAct run treats it as Continue.</summary>
    Replan,
}

/// <summary>What a plan-and-execute planning call is asked to do.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PlanAction>))]
public enum PlanAction
{
    /// <summary>Write the first plan, then start its first steps.</summary>
    MakePlan,
    /// <summary>Write a revised plan for the remaining work, seeing why the last one went wrong, then start it.</summary>
    Replan,
    /// <summary>Run the given plan steps: their tool calls, and the model's calls for sub-goals.</summary>
    RunSteps,
    /// <summary>Every plan step is done: write the final answer from the results.</summary>
    Answer,
}

/// <summary>Why a tool call did not produce an output.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ToolErrorKind>))]
public enum ToolErrorKind
{
    /// <summary>The call succeeded.</summary>
    None,
    /// <summary>No tool of that name is registered.</summary>
    UnknownTool,
    /// <summary>The agent or the tool's policy does not allow the call.</summary>
    PermissionDenied,
    /// <summary>The arguments do not match the tool's schema or cannot be used.</summary>
    InvalidArguments,
    /// <summary>The tool ran and reported a failure.</summary>
    Failed,
    /// <summary>The tool did not finish in time.</summary>
    Timeout,
    /// <summary>The process running a tool with side effects stopped mid-call; the call was not repeated.</summary>
    Interrupted,
    /// <summary>The tool will not act without a person (a refund over the agent's limit): the run is escalated.</summary>
    NeedsPerson,
}

/// <summary>How a run was started.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TriggerKind>))]
public enum TriggerKind
{
    /// <summary>An API call (Gateway or CLI).</summary>
    Api,
    /// <summary>An incoming webhook.</summary>
    Webhook,
    /// <summary>A schedule.</summary>
    Schedule,
    /// <summary>An event published by an upstream system.</summary>
    Event,
    /// <summary>A parent run calling this agent as a tool.</summary>
    SubAgent,
}
