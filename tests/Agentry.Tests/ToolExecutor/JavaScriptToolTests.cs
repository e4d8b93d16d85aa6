using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_javascript_runs_in_the_sandbox
{
    private static readonly ToolInvocation Invocation = new(Guid.NewGuid(), "tenant-1", "assistant", 1, "call_1_1");
    private ServiceProvider _services = null!;
    private ITool _tool = null!;

    [OneTimeSetUp]
    public void Build()
    {
        _services = ToolServices.Build(new Dictionary<string, string?>
        {
            ["Tools:JavaScript:Timeout"] = "00:00:00.500",
            ["Tools:JavaScript:MaxStatements"] = "100000000",
        });
        _tool = _services.GetServices<ITool>().OfType<JavaScriptTool>().Single();
    }

    [OneTimeTearDown]
    public Task Dispose() => _services.DisposeAsync().AsTask();

    private Task<string> RunAsync(string code) =>
        _tool.InvokeAsync(JsonSerializer.SerializeToElement(new { code }), Invocation, CancellationToken.None);

    private ToolException Refused(string code) =>
        Assert.ThrowsAsync<ToolException>(() => RunAsync(code))!;

    [Test]
    public async Task Should_return_the_last_value_and_what_was_logged()
    {
        var output = await RunAsync("console.log('squares', 3); [1, 2, 3].map(x => x * x)");

        Assert.That(output, Is.EqualTo($"squares 3{Environment.NewLine}[1,4,9]"));
    }

    [Test]
    public void Should_stop_an_endless_loop()
    {
        var error = Refused("while (true) {}");

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Timeout));
        Assert.That(error.Message, Is.EqualTo("The program ran longer than 0.5s and was stopped."));
    }

    [Test]
    public void Should_stop_a_memory_bomb()
    {
        // Large arrays filled natively reach the memory limit in a few statements, well before the
        // fixture's 0.5 s time limit even on a loaded machine.
        var error = Refused("const a = []; while (true) { a.push(new Array(1000000).fill('xxxxxxxx')); }");

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(error.Message, Is.EqualTo("The program allocated more than 64 MiB and was stopped."));
    }

    [TestCase("'x'.repeat(1e9)")]
    [TestCase("'ab'.repeat(5e8)")]
    [TestCase("''.padEnd(1e9, 'x')")]
    [TestCase("'x'.padStart(1e9)")]
    public void Should_refuse_to_build_a_huge_string_in_one_call(string code)
    {
        var error = Refused(code);

        Assert.That(error.Message, Does.Contain("Invalid string length: the sandbox allows 16777216 characters"));
    }

    [Test]
    public async Task Should_still_build_a_reasonable_string()
    {
        Assert.That(await RunAsync("'ab'.repeat(3) + 'x'.padStart(3, '-')"), Is.EqualTo("ababab--x"));
    }

    [Test]
    public void Should_stop_deep_recursion()
    {
        var error = Refused("function f(n) { return f(n + 1) + 1; } f(0)");

        Assert.That(error.Message, Is.EqualTo("The program recursed deeper than 200 calls and was stopped."));
    }

    [TestCase("System.IO.File.ReadAllText('/etc/passwd')", "System is not defined")]
    [TestCase("importNamespace('System.IO')", "importNamespace is not defined")]
    [TestCase("require('fs')", "require is not defined")]
    [TestCase("process.env", "process is not defined")]
    [TestCase("Function('return this')().constructor.constructor('return System')()", "System is not defined")]
    public void Should_offer_no_way_to_the_host(string code, string reason)
    {
        var error = Refused(code);

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(error.Message, Does.Contain(reason));
    }

    [Test]
    public async Task Should_expose_no_host_object_on_the_global_scope()
    {
        var names = await RunAsync("Object.getOwnPropertyNames(globalThis).filter(n => /clr|host|system|import|require|fetch|xmlhttp/i.test(n))");

        Assert.That(names, Is.EqualTo("[]"));
    }

    [Test]
    public void Should_report_a_syntax_error_as_the_programs_failure()
    {
        var error = Refused("let = ;");

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(error.Message, Does.StartWith("The program threw: "));
        Assert.That(error.CausedByCaller, Is.True);
    }
}
