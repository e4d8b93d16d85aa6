using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Agentry.Tests;

namespace Agentry.Distributed.Tests;

/// A RabbitMQ node of the test's own (its own name, ports and data folder), so that a test can
/// stop and start the broker without breaking the tests that share the node test.sh starts; the
/// chaos soak once did exactly that to the suites beside it. Needs Debian's rabbitmq-server, which
/// test.sh installs; the node runs as the rabbitmq user, as the package's scripts want.
public sealed class RabbitMqServer : IAsyncDisposable
{
    private readonly string _folder;

    private RabbitMqServer(string node, int port, string folder)
    {
        Node = node;
        Port = port;
        _folder = folder;
    }

    public string Node { get; }

    public int Port { get; }

    public string AmqpUrl => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public static async Task<RabbitMqServer> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("agentry-rabbitmq-").FullName;
        var server = new RabbitMqServer($"agentry-{Guid.NewGuid():N}@localhost", TestPorts.Free(), folder);
        // The package's scripts run the node as the rabbitmq user, which must own its folder.
        if (Environment.UserName == "root" && await RunAsync("chown", "rabbitmq:rabbitmq", folder) is not { ExitCode: 0 })
        {
            TestServers.Unavailable("NOT RUN: this test starts a RabbitMQ node of its own and there is no rabbitmq user to run it. Run ./test.sh, which installs rabbitmq-server.");
        }

        var start = new ProcessStartInfo("rabbitmq-server") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        start.ArgumentList.Add("-detached");
        foreach (var (name, value) in new Dictionary<string, string>
        {
            ["RABBITMQ_NODENAME"] = server.Node,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = server.Port.ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_DIST_PORT"] = TestPorts.Free().ToString(CultureInfo.InvariantCulture),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(folder, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(folder, "log"),
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(folder, "enabled_plugins"),
            ["RABBITMQ_PID_FILE"] = Path.Combine(folder, "node.pid"),
        })
        {
            start.Environment[name] = value;
        }

        try
        {
            using var detached = Process.Start(start)!;
            await detached.WaitForExitAsync();
        }
        catch (Win32Exception e)
        {
            TestServers.Unavailable($"NOT RUN: this test starts a RabbitMQ node of its own and rabbitmq-server is not installed ({e.Message}). Run ./test.sh, which installs it.");
        }

        await server.WaitUntilListeningAsync();
        return server;
    }

    /// rabbitmqctl against this node.
    public Task<(int ExitCode, string Output)?> CtlAsync(params string[] arguments) => RunAsync("rabbitmqctl", ["-n", Node, .. arguments]);

    /// The broker application stopped and started again, as a broker restart looks to its clients:
    /// every connection dropped, the node (and its durable queues) kept.
    public async Task RestartAsync(TimeSpan down)
    {
        Assert.That(await CtlAsync("stop_app") is { ExitCode: 0 }, $"rabbitmqctl -n {Node} stop_app failed");
        await Task.Delay(down);
        Assert.That(await CtlAsync("start_app") is { ExitCode: 0 }, $"rabbitmqctl -n {Node} start_app failed");
        await WaitUntilListeningAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await CtlAsync("stop");
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the operating system's temp cleanup.
        }
    }

    private async Task WaitUntilListeningAsync()
    {
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromMinutes(2); await Task.Delay(250))
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                if (await CtlAsync("await_startup", "--timeout", "60") is { ExitCode: 0 })
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
        }

        var log = Directory.Exists(Path.Combine(_folder, "log"))
            ? string.Join(Environment.NewLine, Directory.EnumerateFiles(Path.Combine(_folder, "log")).Select(File.ReadAllText))
            : "no log written";
        throw new TimeoutException($"RabbitMQ node {Node} did not start on port {Port} within 2 minutes:{Environment.NewLine}{log}");
    }


    private static async Task<(int ExitCode, string Output)?> RunAsync(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await error);
        }
        catch (Win32Exception)
        {
            return null;
        }
    }
}
