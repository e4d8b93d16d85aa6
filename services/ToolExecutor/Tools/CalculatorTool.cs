using System.Text.Json;
using Agentry.Contracts;
using Agentry.ServiceDefaults.Tools;

namespace Agentry.ToolExecutor.Tools;

public sealed class CalculatorTool : ITool
{
    public string Name => BuiltInTools.Calculator.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var expression = arguments.GetProperty("expression").GetString()!;
        try
        {
            return Task.FromResult(ExactCalculator.Evaluate(expression).ToDisplayString());
        }
        catch (CalculatorException e)
        {
            throw new ToolException(ToolErrorKind.Failed, e.Message);
        }
    }
}
