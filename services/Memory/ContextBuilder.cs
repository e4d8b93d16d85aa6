using System.Text.Encodings.Web;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Llm;
using Agentry.ServiceDefaults.Agents;

namespace Agentry.Memory;

/// Raised when a step's record has not arrived yet (messages travel on separate queues);
/// the consumer's retry asks again shortly.
public sealed class TranscriptNotReadyException(string message) : Exception(message);

/// Builds what the next planning call needs: the agent's instructions, the goal, and every
/// earlier step (the model's calls, their results, and the Evaluator's reason when it asked again).
public static class ContextBuilder
{
    private static readonly JsonSerializerOptions CompactJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<ContextMessage> Build(AgentDefinition agent, RunView run, ContextRequested request)
    {
        var messages = new List<ContextMessage>
        {
            new(ContextRole.System, agent.Instructions),
            new(ContextRole.User, request.Input is { } input ? $"{request.Goal}{Environment.NewLine}{Environment.NewLine}Input:{Environment.NewLine}{JsonSerializer.Serialize(input, CompactJson)}" : request.Goal),
        };

        for (var number = 1; number < request.Step; number++)
        {
            var step = run.Steps.FirstOrDefault(s => s.Step == number && s.Usage is not null)
                ?? throw new TranscriptNotReadyException($"Step {number} of run {request.RunId} is not recorded yet.");
            if (step.ToolCalls.Count > 0)
            {
                if (step.Outcomes.Count < step.ToolCalls.Count)
                {
                    throw new TranscriptNotReadyException($"The tool results of step {number} of run {request.RunId} are not recorded yet.");
                }

                messages.Add(new ContextMessage(ContextRole.Assistant, step.Thought ?? "", step.ToolCalls));
                foreach (var call in step.ToolCalls)
                {
                    var outcome = step.Outcomes.First(o => o.CallId == call.CallId);
                    messages.Add(new ContextMessage(ContextRole.Tool, ToolOutcomeText.Format(outcome), CallId: call.CallId));
                }
            }
            else
            {
                messages.Add(new ContextMessage(ContextRole.Assistant, step.FinalAnswer ?? ""));
                if (step.VerdictReason is { } reason)
                {
                    messages.Add(new ContextMessage(ContextRole.User, reason));
                }
            }

            // A person resumed the escalated run after this step: their words come next, as the user's.
            if (step.Guidance is { } guidance)
            {
                messages.Add(new ContextMessage(ContextRole.User, $"A person ({guidance.By}) reviewed the run and says: {guidance.Text}"));
            }
        }

        return messages;
    }
}
