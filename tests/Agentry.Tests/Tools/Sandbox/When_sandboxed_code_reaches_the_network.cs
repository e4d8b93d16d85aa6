using System.Collections.Concurrent;
using Agentry.Agents;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Tests.Tools.Sandbox;

/// sandbox.allowed_hosts: the only way out of the sandbox is the ToolExecutor's CONNECT proxy, which
/// decides outside the sandbox. A real HTTP server on loopback stands in for the outside world; every
/// refusal is checked on that server too (no request reached it), not only in what the code printed.
public sealed class When_sandboxed_code_reaches_the_network
{
    private readonly ConcurrentQueue<string> _requests = new();
    private WebApplication _server = null!;
    private int _port;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.MapGet("/{**path}", (HttpRequest request) =>
        {
            _requests.Enqueue(request.Path);
            return request.Path == "/large" ? Results.Text(new string('x', 200_000)) : Results.Text("hello from outside");
        });
        await _server.StartAsync();
        _port = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
    }

    [OneTimeTearDown]
    public async Task StopServer() => await _server.DisposeAsync();

    [SetUp]
    public void Clear() => _requests.Clear();

    [Test]
    public async Task Should_tunnel_to_a_listed_host_through_the_proxy_the_environment_names()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: true);

        var output = await host.PythonAsync($"""
            import http.client, os
            proxy = os.environ["HTTPS_PROXY"]
            connection = http.client.HTTPConnection("127.0.0.1", 3128, timeout=10)
            connection.set_tunnel("127.0.0.1", {_port})
            connection.request("GET", "/hello")
            response = connection.getresponse()
            print(proxy, response.status, response.read().decode())
            """);

        Assert.That(output, Does.Contain("http://127.0.0.1:3128 200 hello from outside"));
        Assert.That(_requests, Is.EqualTo(new[] { "/hello" }));
    }

    [Test]
    public async Task Should_refuse_a_host_that_is_not_listed()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: true);

        var output = await host.PythonAsync(Connect($"CONNECT 127.0.0.1:{_port + 1} HTTP/1.1"));

        Assert.That(output, Does.Contain("403 Forbidden").And.Contain($"127.0.0.1:{_port + 1} is not in the agent's sandbox.allowed_hosts (127.0.0.1:{_port})"));
    }

    [Test]
    public async Task Should_refuse_a_listed_host_that_resolves_to_loopback_unless_it_is_a_configured_private_host()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: false);

        var output = await host.PythonAsync(Connect($"CONNECT 127.0.0.1:{_port} HTTP/1.1"));

        Assert.That(output, Does.Contain("403 Forbidden").And.Contain("127.0.0.1 resolves to 127.0.0.1, a loopback, private, link-local or metadata address"));
        Assert.That(_requests, Is.Empty);
    }

    [Test]
    public async Task Should_refuse_the_cloud_metadata_address_even_when_listed()
    {
        using var host = Host(["169.254.169.254:80"], privateHosts: false);

        var output = await host.PythonAsync(Connect("CONNECT 169.254.169.254:80 HTTP/1.1"));

        Assert.That(output, Does.Contain("403 Forbidden").And.Contain("169.254.169.254 resolves to 169.254.169.254"));
    }

    [Test]
    public async Task Should_refuse_plain_http_forwarding()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: true);

        var output = await host.PythonAsync(Connect($"GET http://127.0.0.1:{_port}/hello HTTP/1.1"));

        Assert.That(output, Does.Contain("405 Method Not Allowed").And.Contain("Only CONNECT tunnels leave the sandbox"));
        Assert.That(_requests, Is.Empty);
    }

    [Test]
    public async Task Should_close_a_tunnel_at_the_calls_byte_limit()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: true, maxBytes: 20_000);

        var output = await host.PythonAsync($"""
            import socket
            s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
            s.sendall(b"CONNECT 127.0.0.1:{_port} HTTP/1.1\r\n\r\n")
            s.recv(1024)
            s.sendall(b"GET /large HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            total = 0
            while chunk := s.recv(65536):
                total += len(chunk)
            print("received", total)
            """);

        var received = int.Parse(output.Split("received ")[1].Split('\n')[0].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(received, Is.LessThanOrEqualTo(20_000).And.GreaterThan(0), output);
    }

    [Test]
    public async Task Should_drop_a_connection_that_never_sends_its_request()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: true, headerTimeout: "00:00:01");

        var output = await host.PythonAsync("""
            import socket, time
            s = socket.create_connection(("127.0.0.1", 3128), timeout=15)
            started = time.monotonic()
            s.sendall(b"CONNECT 127.0.0.1:")
            print("closed" if s.recv(4096) == b"" else "answered", round(time.monotonic() - started))
            """);

        Assert.That(output, Does.Match(@"closed [0-3]\b"), "dropped at the 1 s header timeout, not left open");
        Assert.That(_requests, Is.Empty);
    }

    [Test]
    public async Task Should_have_no_proxy_and_no_network_without_allowed_hosts()
    {
        using var host = Host([], privateHosts: true);

        var output = await host.PythonAsync($"""
            import os, socket
            print("egress folder:", os.path.exists("/run/egress"), "proxy variable:", "HTTPS_PROXY" in os.environ)
            for address in [("127.0.0.1", 3128), ("127.0.0.1", {_port})]:
                try:
                    socket.create_connection(address, timeout=3)
                    print("connected", address)
                except OSError as e:
                    print("refused", address[1], type(e).__name__)
            """);

        Assert.That(output, Does.Contain("egress folder: False proxy variable: False"));
        Assert.That(output, Does.Contain("refused 3128").And.Contain($"refused {_port}").And.Not.Contain("connected"));
        Assert.That(_requests, Is.Empty);
    }

    [Test]
    public async Task Should_leave_no_forwarder_or_socket_behind_when_the_call_ends()
    {
        using var host = Host([$"127.0.0.1:{_port}"], privateHosts: true);
        var before = Directory.EnumerateDirectories(Path.GetTempPath(), "agentry-egress-*").ToList();

        await host.PythonAsync("print('done')");

        Assert.That(SandboxTestHost.ProcessesWith("/run/egress/proxy.sock"), Is.Empty, "the forwarder dies with the sandbox");
        Assert.That(Directory.EnumerateDirectories(Path.GetTempPath(), "agentry-egress-*").Except(before), Is.Empty, "the proxy's socket folder is removed");
    }

    [Test]
    public void Should_refuse_a_timeout_that_is_not_positive_at_start()
    {
        using var services = Agentry.Tests.ToolExecutor.ToolServices.Build(new Dictionary<string, string?> { ["Tools:Sandbox:Egress:HeaderTimeout"] = "00:00:00" });

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            _ = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Agentry.Tools.SandboxOptions>>().Value)!;
        Assert.That(refused.Message, Does.Contain("Tools:Sandbox:Egress:HeaderTimeout and :ConnectTimeout must be positive"));
    }

    private static SandboxTestHost Host(string[] allowedHosts, bool privateHosts, long? maxBytes = null, string? headerTimeout = null)
    {
        var settings = new Dictionary<string, string?>();
        if (headerTimeout is not null)
        {
            settings["Tools:Sandbox:Egress:HeaderTimeout"] = headerTimeout;
        }

        if (privateHosts)
        {
            settings["Tools:Sandbox:Egress:PrivateHosts:0"] = "127.0.0.1";
        }

        if (maxBytes is { } bytes)
        {
            settings["Tools:Sandbox:Egress:MaxBytesPerCall"] = bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new SandboxTestHost(new AgentSandbox(WallTime: TimeSpan.FromSeconds(20)) { AllowedHosts = allowedHosts }, settings);
    }

    /// Python that sends one request line to the forwarder and prints the whole answer.
    private static string Connect(string requestLine) => $"""
        import socket
        s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
        s.sendall(b"{requestLine}\r\nHost: x\r\n\r\n")
        answer = b""
        while chunk := s.recv(4096):
            answer += chunk
        print(answer.decode())
        """;
}
