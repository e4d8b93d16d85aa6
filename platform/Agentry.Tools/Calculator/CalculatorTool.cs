using Microsoft.Extensions.DependencyInjection;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;

namespace Agentry.Tools;

public sealed class CalculatorTool : ITool
{
    public static readonly ToolDescriptor Descriptor = new("calculator", "Evaluates an arithmetic expression exactly (+ - * / % ^ and parentheses on integers and decimals) and returns the result.", ToolSchema.ClosedObject("""
        "expression": { "type": "string", "minLength": 1, "maxLength": 1000, "description": "The arithmetic expression, for example (17 * 23) + 4." }
        """, "expression"));

    public static ToolPack Pack { get; } = ToolPack.Of([Descriptor], (services, _) => services.AddSingleton<ITool, CalculatorTool>());

    public string Name => Descriptor.Name;

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
