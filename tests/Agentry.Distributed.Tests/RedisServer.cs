using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Agentry.Tests;

namespace Agentry.Distributed.Tests;

/// A redis-server of the test's own, on a port of its own, so that the test can restart it without
/// disturbing the Redis that other tests share. Its append-only file is on (fsync every second), as
/// production must run Redis (docs/operations.md): a restart keeps what was written.
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("agentry-redis-").FullName;
    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    /// A StackExchange.Redis configuration string for the services.
    public string Configuration => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var server = new RedisServer(TestPorts.Free());
        await server.StartProcessAsync();
        return server;
    }

    /// SHUTDOWN, as a rolling restart of its pod stops it (the append-only file is flushed), then a
    /// new process on the same port and files.
    public async Task RestartAsync()
    {
        await StopAsync();
        await StartProcessAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private async Task StopAsync()
    {
        if (_process is null || _process.HasExited)
        {
            return;
        }

        using (var cli = Process.Start(new ProcessStartInfo("redis-cli", ["-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "shutdown"]) { RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            await cli.WaitForExitAsync();
        }

        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }

        _process.Dispose();
        _process = null;
    }

    private async Task StartProcessAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = _folder,
        };
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--dir", _folder, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "" })
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            _process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            TestServers.Unavailable($"NOT RUN: this test starts a redis-server of its own and none is installed ({e.Message}). Run ./test.sh, which installs it.");
            return;
        }

        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(20); await Task.Delay(50))
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet.
            }
        }

        throw new TimeoutException($"redis-server did not listen on {Port} within 20 s.");
    }
}
