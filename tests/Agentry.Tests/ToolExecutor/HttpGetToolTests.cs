using System.Text.Json;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_http_get_fetches_from_a_local_server
{
    private const int MaxResponseBytes = 64;

    private static readonly ToolInvocation Invocation = new(Guid.NewGuid(), "tenant-1", "assistant", 1, "call_1_1");

    private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _server = null!;
    private Uri _address = null!;
    private ServiceProvider _tools = null!;
    private HttpGetTool _tool = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _server = builder.Build();
        _server.MapGet("/status", () => Results.Text("all systems go", "text/plain"));
        _server.MapGet("/big", () => Results.Text(new string('a', MaxResponseBytes) + "TAIL", "text/plain"));
        _server.MapGet("/exact", () => Results.Text(new string('b', MaxResponseBytes), "text/plain"));
        _server.MapGet("/broken", () => Results.Text("database unavailable", "text/plain", statusCode: StatusCodes.Status500InternalServerError));
        _server.MapGet("/missing", () => Results.NotFound());
        // Never answers: the test never completes the source; the request's abort ends the handler.
        _server.MapGet("/slow", async (HttpContext context) => await _never.Task.WaitAsync(context.RequestAborted));
        await _server.StartAsync();
        _address = new Uri(_server.Urls.Single());

        _tools = ToolServices.Build(new Dictionary<string, string?>
        {
            ["Tools:HttpGet:AllowedHosts:0"] = "127.0.0.1",
            // The test server listens on loopback, which only a host listed here may reach.
            ["Tools:HttpGet:PrivateHosts:0"] = "127.0.0.1",
            ["Tools:HttpGet:MaxResponseBytes"] = MaxResponseBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Tools:HttpGet:Timeout"] = "00:00:00.200",
        });
        _tool = _tools.GetServices<ITool>().OfType<HttpGetTool>().Single();
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _tools.DisposeAsync();
        await _server.StopAsync();
        await _server.DisposeAsync();
    }

    private Task<string> GetAsync(string pathOrUrl) =>
        _tool.InvokeAsync(JsonSerializer.SerializeToElement(new { url = new Uri(_address, pathOrUrl).ToString() }), Invocation, CancellationToken.None);

    private async Task<ToolException> ErrorForAsync(string pathOrUrl)
    {
        try
        {
            var output = await GetAsync(pathOrUrl);
            throw new AssertionException($"Expected a ToolException for {pathOrUrl}, but the tool answered: {output}");
        }
        catch (ToolException e)
        {
            return e;
        }
    }

    [Test]
    public async Task Should_return_the_status_and_the_body()
    {
        var output = await GetAsync("/status");

        Assert.That(output, Is.EqualTo($"HTTP 200 OK{Environment.NewLine}Content-Type: text/plain{Environment.NewLine}{Environment.NewLine}all systems go"));
    }

    [Test]
    public async Task Should_cut_the_body_at_the_size_limit_and_say_so()
    {
        var output = await GetAsync("/big");

        Assert.That(output, Does.EndWith($"{Environment.NewLine}{new string('a', MaxResponseBytes)}{Environment.NewLine}[truncated at {MaxResponseBytes} bytes]"));
        Assert.That(output, Does.Not.Contain("TAIL"));
    }

    [Test]
    public async Task Should_not_mark_a_body_of_exactly_the_limit_as_truncated()
    {
        var output = await GetAsync("/exact");

        Assert.That(output, Does.EndWith(new string('b', MaxResponseBytes)));
        Assert.That(output, Does.Not.Contain("truncated"));
    }

    [Test]
    public async Task Should_report_a_server_error_as_failed_with_the_status_and_body()
    {
        var error = await ErrorForAsync("/broken");

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(error.Message, Does.StartWith("HTTP 500 Internal Server Error").And.EndWith("database unavailable"));
    }

    [Test]
    public async Task Should_report_a_not_found_as_failed()
    {
        var error = await ErrorForAsync("/missing");

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(error.Message, Does.StartWith("HTTP 404 Not Found"));
    }

    [Test]
    public async Task Should_report_a_server_that_does_not_answer_in_time_as_a_timeout()
    {
        var error = await ErrorForAsync("/slow");

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Timeout));
        Assert.That(error.Message, Is.EqualTo($"GET {new Uri(_address, "/slow")} did not answer within 0.2s."));
    }

    [Test]
    public async Task Should_refuse_a_host_that_is_not_allowed_without_calling_it()
    {
        var localhost = new UriBuilder(_address) { Host = "localhost", Path = "/status" }.Uri;

        var error = await ErrorForAsync(localhost.ToString());

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(error.Message, Is.EqualTo("Host 'localhost' is not on the http_get allow-list (allowed hosts: 127.0.0.1; configure Tools:HttpGet:AllowedHosts)."));
    }

    [Test]
    public async Task Should_report_a_connection_that_is_refused_as_failed()
    {
        var closedPort = new UriBuilder(_address) { Port = 1, Path = "/status" }.Uri;

        var error = await ErrorForAsync(closedPort.ToString());

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(error.Message, Does.StartWith($"GET {closedPort} failed: "));
    }
}

[TestFixture]
public sealed class When_http_get_has_no_allowed_hosts
{
    [Test]
    public async Task Should_refuse_every_host()
    {
        await using var services = ToolServices.Build();
        var tool = services.GetServices<ITool>().OfType<HttpGetTool>().Single();

        var error = Assert.ThrowsAsync<ToolException>(() => tool.InvokeAsync(
            JsonSerializer.SerializeToElement(new { url = "https://example.com/" }),
            new ToolInvocation(Guid.NewGuid(), "tenant-1", "assistant", 1, "c1"),
            CancellationToken.None));

        Assert.That(error!.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(error.Message, Does.Contain("no hosts are allowed"));
    }
}
