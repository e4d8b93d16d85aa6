using System.Net;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.ToolExecutor;
using Agentry.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Agentry.Tests.ToolExecutor;

[TestFixture]
public sealed class When_http_request_is_aimed_at_the_local_network
{
    private static readonly ToolInvocation Invocation = new(Guid.NewGuid(), "tenant-1", "assistant", 1, "call_1_1");

    private WebApplication _server = null!;
    private Uri _address = null!;
    private int _hits;

    /// Answers every name with loopback, as a hostile DNS server would for a name it controls.
    private sealed class LoopbackResolver : IHostResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) =>
            Task.FromResult(IPAddress.TryParse(host, out var literal) ? [literal] : new[] { IPAddress.Loopback });
    }

    [OneTimeSetUp]
    public async Task StartServer()
    {
        (_server, _address) = await LocalHttpServer.StartAsync(app =>
        {
            app.MapGet("/status", () =>
            {
                Interlocked.Increment(ref _hits);
                return Results.Text("secret internal status", "text/plain");
            });
            app.MapPost("/echo", async (HttpContext context) =>
            {
                Interlocked.Increment(ref _hits);
                using var reader = new StreamReader(context.Request.Body);
                return Results.Text($"{context.Request.Headers["Idempotency-Key"]} {await reader.ReadToEndAsync()}", "text/plain");
            });
        });
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        await _server.StopAsync();
        await _server.DisposeAsync();
    }

    private static async Task<ToolException> RefusalAsync(ITool tool, object arguments)
    {
        var error = Assert.ThrowsAsync<ToolException>(async () => await tool.InvokeAsync(JsonSerializer.SerializeToElement(arguments), Invocation, CancellationToken.None));
        return await Task.FromResult(error!);
    }

    private Uri On(string host, string path = "/status") => new UriBuilder(_address) { Host = host, Path = path }.Uri;

    [TestCase("127.0.0.1")]
    [TestCase("[::1]")]
    [TestCase("localhost")]
    [TestCase("169.254.169.254")]
    public async Task Should_refuse_a_local_or_metadata_address_after_resolving_it(string host)
    {
        await using var services = ToolServices.Build();
        var tool = services.GetServices<ITool>().OfType<HttpRequestTool>().Single();
        var before = _hits;

        var error = await RefusalAsync(tool, new { url = On(host).ToString() });

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(error.Message, Does.Contain("a loopback, private, link-local or metadata address"));
        Assert.That(_hits, Is.EqualTo(before), "the server was reached");
    }

    [Test]
    public async Task Should_refuse_a_public_looking_name_that_resolves_to_loopback()
    {
        var services = ToolServices.Create();
        services.Replace(ServiceDescriptor.Singleton<IHostResolver, LoopbackResolver>());
        await using var provider = services.BuildServiceProvider();
        var tool = provider.GetServices<ITool>().OfType<HttpRequestTool>().Single();
        var before = _hits;

        var error = await RefusalAsync(tool, new { url = On("innocent.example.com").ToString() });

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(error.Message, Does.Contain("Host 'innocent.example.com' resolves to 127.0.0.1"));
        Assert.That(_hits, Is.EqualTo(before), "the server was reached");
    }

    [Test]
    public async Task Should_reach_a_local_host_that_configuration_allows()
    {
        await using var services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:HttpRequest:PrivateHosts:0"] = "127.0.0.1" });
        var tool = services.GetServices<ITool>().OfType<HttpRequestTool>().Single();

        var output = await tool.InvokeAsync(JsonSerializer.SerializeToElement(new { method = "GET", url = On("127.0.0.1").ToString() }), Invocation, CancellationToken.None);
        var posted = await tool.InvokeAsync(JsonSerializer.SerializeToElement(new { method = "POST", url = On("127.0.0.1", "/echo").ToString(), body = new { n = 1 } }), Invocation, CancellationToken.None);

        Assert.That(output, Does.StartWith("HTTP 200 OK").And.EndWith("secret internal status"));
        Assert.That(posted, Does.EndWith($"{Invocation.RunId}:{Invocation.CallId} {{\"n\":1}}"));
    }

    [Test]
    public async Task Should_still_refuse_loopback_for_another_host_when_one_is_allowed()
    {
        var services = ToolServices.Create(new Dictionary<string, string?> { ["Tools:HttpRequest:PrivateHosts:0"] = "127.0.0.1" });
        services.Replace(ServiceDescriptor.Singleton<IHostResolver, LoopbackResolver>());
        await using var provider = services.BuildServiceProvider();
        var tool = provider.GetServices<ITool>().OfType<HttpRequestTool>().Single();

        var error = await RefusalAsync(tool, new { url = On("innocent.example.com").ToString() });

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
    }

    [Test]
    public async Task Should_refuse_loopback_to_http_get_even_for_a_host_on_its_allow_list()
    {
        await using var services = ToolServices.Build(new Dictionary<string, string?> { ["Tools:HttpGet:AllowedHosts:0"] = "127.0.0.1" });
        var tool = services.GetServices<ITool>().OfType<HttpGetTool>().Single();
        var before = _hits;

        var error = await RefusalAsync(tool, new { url = On("127.0.0.1").ToString() });

        Assert.That(error.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied));
        Assert.That(error.Message, Does.Contain("list the host in the tool's PrivateHosts setting"));
        Assert.That(_hits, Is.EqualTo(before));
    }

    [Test]
    public async Task Should_count_a_post_as_a_side_effect_and_a_get_not()
    {
        await using var services = ToolServices.Build();
        var registry = services.GetRequiredService<ToolRegistry>();

        Assert.That(registry.HasSideEffects("http_request", JsonSerializer.SerializeToElement(new { method = "POST", url = "https://example.com/", body = 1 })), Is.True);
        Assert.That(registry.HasSideEffects("http_request", JsonSerializer.SerializeToElement(new { url = "https://example.com/" })), Is.False);
        Assert.That(registry.HasSideEffects("write_file", JsonSerializer.SerializeToElement(new { path = "a", content = "" })), Is.True);
        Assert.That(registry.HasSideEffects("read_file", JsonSerializer.SerializeToElement(new { path = "a" })), Is.False);
    }

    [TestCase("8.8.8.8", true)]
    [TestCase("2606:4700:4700::1111", true)]
    [TestCase("0.0.0.0", false)]
    [TestCase("10.1.2.3", false)]
    [TestCase("100.64.0.1", false)]
    [TestCase("172.16.0.1", false)]
    [TestCase("172.31.255.255", false)]
    [TestCase("192.168.1.1", false)]
    [TestCase("169.254.169.254", false)]
    [TestCase("::", false)]
    [TestCase("::ffff:127.0.0.1", false)]
    [TestCase("::ffff:169.254.169.254", false)]
    [TestCase("64:ff9b::a9fe:a9fe", false)]
    [TestCase("fd00:ec2::254", false)]
    [TestCase("fe80::1", false)]
    [TestCase("224.0.0.1", false)]
    public void Should_tell_public_addresses_from_local_ones(string address, bool isPublic) =>
        Assert.That(AddressGuard.IsPublic(IPAddress.Parse(address)), Is.EqualTo(isPublic));
}
