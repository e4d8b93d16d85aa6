using System.Diagnostics;
using Agentry.Llm;
using Agentry.Agents.Tools;
using Agentry.Tools;
using Microsoft.SemanticKernel;
using Microsoft.SemanticKernel.ChatCompletion;
using Microsoft.SemanticKernel.Connectors.OpenAI;

namespace Agentry.Bench;

/// The same ReAct loop with Semantic Kernel alone, in one process: the model (the same offline
/// model), the same tool functions offered, the calculator called directly. What Agentry adds on
/// top of this is the orchestration being measured.
public static class Baseline
{
    public static async Task<TimeSpan> RunAsync(string goal, string instructions, int maxSteps)
    {
        var clock = Stopwatch.StartNew();
        var model = new OfflineChatModel();
        var kernel = new Kernel();
        kernel.Plugins.Add(ToolFunctions.CreatePlugin(BuiltInTools.All));
        var settings = new OpenAIPromptExecutionSettings { Temperature = 0, FunctionChoiceBehavior = FunctionChoiceBehavior.Auto(autoInvoke: false) };
        var history = new ChatHistory();
        history.AddSystemMessage(instructions);
        history.AddUserMessage(goal);
        for (var step = 1; step <= maxSteps; step++)
        {
            var reply = await model.GetChatMessageContentAsync(history, settings, kernel);
            var calls = FunctionCallContent.GetFunctionCalls(reply).ToList();
            if (calls.Count == 0)
            {
                return clock.Elapsed;
            }

            history.Add(reply);
            foreach (var call in calls)
            {
                var expression = call.Arguments!["expression"]!.ToString()!;
                var result = ExactCalculator.Evaluate(expression).ToDisplayString();
                history.Add(new FunctionResultContent(call, result).ToChatMessage());
            }
        }

        throw new InvalidOperationException("The baseline loop did not finish.");
    }
}
