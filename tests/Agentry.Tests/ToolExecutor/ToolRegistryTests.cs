using System.Text.Json;
using Agentry.Agents.Tools;
using Agentry.ToolExecutor;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_tool_arguments_are_validated
{
    private ServiceProvider _services = null!;
    private ToolRegistry _registry = null!;

    [OneTimeSetUp]
    public void BuildRegistry()
    {
        _services = ToolServices.Build();
        _registry = _services.GetRequiredService<ToolRegistry>();
    }

    [OneTimeTearDown]
    public void DisposeServices() => _services.Dispose();

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    [TestCase("calculator", """{"expression":"17 * 23 + 4"}""")]
    [TestCase("current_time", """{}""")]
    [TestCase("current_time", """{"timezone":"Asia/Tokyo"}""")]
    [TestCase("http_get", """{"url":"https://example.com/status"}""")]
    public void Should_find_no_problem_with_valid_arguments(string tool, string arguments)
    {
        Assert.That(_registry.Validate(tool, Json(arguments)), Is.Empty);
    }

    [Test]
    public void Should_name_a_missing_required_argument()
    {
        var problems = _registry.Validate("calculator", Json("{}"));

        Assert.That(problems, Is.EqualTo<string[]>(["arguments: Required properties [\"expression\"] are not present"]));
    }

    [Test]
    public void Should_name_an_argument_of_the_wrong_type()
    {
        var problems = _registry.Validate("calculator", Json("""{"expression":42}"""));

        Assert.That(problems, Is.EqualTo<string[]>(["/expression: Value is \"integer\" but should be \"string\""]));
    }

    [Test]
    public void Should_refuse_an_empty_expression()
    {
        var problems = _registry.Validate("calculator", Json("""{"expression":""}"""));

        Assert.That(problems, Is.EqualTo<string[]>(["/expression: Value should be at least 1 characters"]));
    }

    [Test]
    public void Should_name_an_argument_the_tool_does_not_take()
    {
        var problems = _registry.Validate("calculator", Json("""{"expression":"1 + 1","precision":2}"""));

        Assert.That(problems, Is.EqualTo<string[]>(["/precision: All values fail against the false schema"]));
    }

    [Test]
    public void Should_list_every_problem_of_the_arguments()
    {
        var problems = _registry.Validate("calculator", Json("""{"expr":"1"}"""));

        Assert.That(problems, Is.EquivalentTo(new List<string>
        {
            "arguments: Required properties [\"expression\"] are not present",
            "/expr: All values fail against the false schema",
        }));
    }

    [TestCase("[1, 2]", "the arguments must be a JSON object, not a array")]
    [TestCase("\"1 + 1\"", "the arguments must be a JSON object, not the string \"1 + 1\"")]
    [TestCase("null", "the arguments must be a JSON object, not a null")]
    [TestCase("7", "the arguments must be a JSON object, not a number")]
    public void Should_refuse_arguments_that_are_not_an_object(string arguments, string problem)
    {
        Assert.That(_registry.Validate("calculator", Json(arguments)), Is.EqualTo(new[] { problem }));
    }

    [Test]
    public void Should_refuse_missing_arguments()
    {
        Assert.That(_registry.Validate("calculator", default), Is.EqualTo<string[]>(["the arguments must be a JSON object, not nothing"]));
    }

    [TestCase("not a url")]
    [TestCase("example.com/status")]
    public void Should_refuse_an_http_get_url_that_is_not_a_uri(string url)
    {
        var problems = _registry.Validate("http_get", JsonSerializer.SerializeToElement(new { url }));

        Assert.That(problems, Has.Member("/url: Value does not match format \"uri\""));
        Assert.That(problems, Has.All.StartsWith("/url: "));
    }

    [Test]
    public void Should_refuse_an_http_get_url_that_is_not_http()
    {
        var problems = _registry.Validate("http_get", JsonSerializer.SerializeToElement(new { url = "ftp://example.com/file" }));

        Assert.That(problems, Is.EqualTo<string[]>(["/url: The string value is not a match for the indicated regular expression"]));
    }

    [Test]
    public void Should_find_each_built_in_tool_by_name_and_no_other()
    {
        Assert.That(_registry.Find("calculator"), Is.InstanceOf<CalculatorTool>());
        Assert.That(_registry.Find("current_time"), Is.InstanceOf<CurrentTimeTool>());
        Assert.That(_registry.Find("http_get"), Is.InstanceOf<HttpGetTool>());
        Assert.That(_registry.Find("rm_rf"), Is.Null);
        Assert.That(_registry.Find("Calculator"), Is.Null);
    }
}

[TestFixture]
public sealed class When_the_tool_registry_is_built
{
    private sealed class ShellTool : ITool
    {
        public string Name => "shell";

        public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken) =>
            Task.FromResult("");
    }

    [Test]
    public void Should_name_the_tools_without_an_implementation()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new ToolRegistry(ShippedTools.Catalog, [new CalculatorTool()]));

        Assert.That(error!.Message, Is.EqualTo(
            $"The tool catalog and the tool implementations disagree. Without an implementation: [{string.Join(", ", ShippedTools.Catalog.Names.Where(n => n != "calculator"))}]; not in the catalog: []."));
    }

    [Test]
    public void Should_name_an_implementation_that_is_not_in_the_catalog()
    {
        var catalog = new ToolCatalog([CalculatorTool.Descriptor]);

        var error = Assert.Throws<InvalidOperationException>(() => new ToolRegistry(catalog, [new CalculatorTool(), new ShellTool()]));

        Assert.That(error!.Message, Does.EndWith("Without an implementation: []; not in the catalog: [shell]."));
    }

    [Test]
    public void Should_bind_a_catalog_to_its_implementations()
    {
        var registry = new ToolRegistry(new ToolCatalog([CalculatorTool.Descriptor]), [new CalculatorTool()]);

        Assert.That(registry.Find("calculator"), Is.InstanceOf<CalculatorTool>());
    }
}
