using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;

namespace Agentry.Tools;

/// Keeps a fact or preference about the run's user. The ToolExecutor owns no store: Memory keeps the
/// item and answers, so the call's result says whether it was kept. Memory knows the run's user.
public sealed class RememberTool(IServiceProvider services) : ITool
{
    /// Keeps a fact or preference about the run's user for later runs. Only for agents with
    /// memory.long_term and runs with a user; repeating a call adds nothing (the item's id is the call's).
    public static readonly ToolDescriptor Descriptor = new("remember", "Remembers a durable fact about the user, or a preference of theirs, for later conversations (for example: prefers answers in French). Use it only for what the user said or clearly showed about themselves.", ToolSchema.ClosedObject("""
        "text": { "type": "string", "minLength": 1, "maxLength": 500, "description": "The fact or preference, as one short sentence about the user." },
        "kind": { "enum": ["fact", "preference"], "description": "fact: something true about the user; preference: how they like things done." }
        """, "text", "kind"), SideEffects: true);

    public static readonly TimeSpan MemoryTimeout = TimeSpan.FromSeconds(10);

    public string Name => Descriptor.Name;

    public async Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        if (MemoryTools.AgentOf(services, invocation) is not { Memory.LongTerm: true })
        {
            throw new ToolException(ToolErrorKind.PermissionDenied,
                $"Agent '{invocation.Agent}' has no long-term memory, so it cannot remember anything about the user. Set `memory: {{ long_term: true }}` in its definition to allow it.");
        }

        var text = arguments.GetProperty("text").GetString()!.Trim();
        var kind = arguments.GetProperty("kind").GetString() == "preference" ? MemoryItemKind.Preference : MemoryItemKind.Fact;
        var answer = await MemoryTools.AskAsync<RememberMemory, MemoryRemembered>(
            services, new RememberMemory(invocation.RunId, invocation.TenantId, invocation.CallId, text, kind), MemoryTimeout, cancellationToken);
        if (answer.Problem is { } problem)
        {
            throw new ToolException(ToolErrorKind.PermissionDenied, problem, causedByCaller: true);
        }

        var what = kind == MemoryItemKind.Preference ? "preference" : "fact";
        return answer.AlreadyKnown
            ? $"Already remembered: the user has this {what} as memory {answer.ItemId}."
            : $"Remembered as a {what} about the user (memory {answer.ItemId}).";
    }
}
