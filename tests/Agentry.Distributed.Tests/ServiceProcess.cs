using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace Agentry.Distributed.Tests;

/// One Agentry service running as an OS process of its own, from its build output. Like the
/// restart policy of its Kubernetes Deployment and of docker-compose.yml, a process that exits on
/// its own with a failure code is started again (a service stops itself that way when it can no
/// longer consume; see ConsumerWatchdog); one the test kills is not.
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly Lock _logGate = new();
    private readonly ConcurrentQueue<string> _unexpectedExits = new();
    private string? _lastCritical;

    // The supervisor's restart and the test's kill and start take turns: interleaved, a kill could
    // hit the process the supervisor was starting while the test started one more on the same port.
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private bool _criticalFollows;
    private Process _process = null!;
    private volatile bool _stopping;

    private ServiceProcess(string service, string instance, IReadOnlyDictionary<string, string> environment)
    {
        Service = service;
        Instance = instance;
        Environment = environment;
        Port = TestPorts.Free();
    }

    public string Service { get; }
    public string Instance { get; }
    public int Port { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    /// Every exit the test did not cause (a crash, a guard stopping the service, even a clean exit),
    /// when, with which code and the last critical log line before it: the supervisor's restart hides
    /// them otherwise.
    public IReadOnlyCollection<string> UnexpectedExits => _unexpectedExits;

    public string Log
    {
        get
        {
            lock (_logGate)
            {
                return _log.ToString();
            }
        }
    }

    public static async Task<ServiceProcess> StartAsync(string service, string instance, IReadOnlyDictionary<string, string> environment)
    {
        var process = new ServiceProcess(service, instance, environment);
        await process.StartAsync();
        return process;
    }

    public async Task StartAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            await StartLockedAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// Started, and ready within 2 minutes. As the orchestrator would, a process that exits with a
    /// failure code while starting (a watchdog that found its bus wedged) is started again, within
    /// the same 2 minutes.
    private async Task StartLockedAsync()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            StartProcess();
            try
            {
                await WaitUntilReadyAsync(TimeSpan.FromMinutes(2) - clock.Elapsed);
                return;
            }
            catch (InvalidOperationException) when (_process.HasExited && _process.ExitCode != 0 && clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                // RestartAfterFailure logged the exit; the loop, holding the lifecycle, starts the next one.
            }
        }
    }

    private void StartProcess()
    {
        var dll = Path.Combine(Repository.Root, "services", Service, "bin", Repository.Configuration, "net10.0", $"Agentry.{Service}.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is not built; run ./test.sh (or dotnet build Agentry.sln -c {Repository.Configuration}) first.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(BaseAddress.ToString());
        foreach (var (name, value) in Environment)
        {
            start.Environment[name] = value;
        }

        _stopping = false;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process = process;
        _process.Exited += (_, _) => RestartAfterFailure(process);
        if (!_process.Start())
        {
            throw new InvalidOperationException($"Could not start {Service}.");
        }

        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// SIGKILL: no shutdown, no acknowledgements, exactly as a crashed pod.
    public async Task KillAsync()
    {
        await _lifecycle.WaitAsync();
        try
        {
            _stopping = true;
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// SIGTERM, as Kubernetes stops a pod in a rollout (and docker stop a container): the service
    /// stops taking messages, finishes those it holds and exits by itself. Like the kubelet after
    /// terminationGracePeriodSeconds, SIGKILL if it is still running after the grace period. The
    /// answer says which: whether it exited by itself, with which code, and how long it took.
    public async Task<(bool ExitedByItself, int ExitCode, TimeSpan Took)> StopAsync(TimeSpan gracePeriod)
    {
        await _lifecycle.WaitAsync();
        try
        {
            _stopping = true;
            var clock = Stopwatch.StartNew();
            if (_process.HasExited)
            {
                return (true, _process.ExitCode, TimeSpan.Zero);
            }

            using (var signal = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            {
                await signal.WaitForExitAsync();
            }

            using var grace = new CancellationTokenSource(gracePeriod);
            try
            {
                await _process.WaitForExitAsync(grace.Token);
                return (true, _process.ExitCode, clock.Elapsed);
            }
            catch (OperationCanceledException)
            {
                Append($"[supervisor] still running {gracePeriod.TotalSeconds:0}s after SIGTERM; SIGKILL");
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
                return (false, _process.ExitCode, clock.Elapsed);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Service} exited with code {_process.ExitCode} while starting:{System.Environment.NewLine}{Log}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseAddress, "/health/ready"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Service} was not ready within {timeout.TotalSeconds}s:{System.Environment.NewLine}{Log}");
    }

    private void RestartAfterFailure(Process exited)
    {
        if (_stopping || exited != _process)
        {
            return;
        }

        _unexpectedExits.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} exit code {exited.ExitCode}: {_lastCritical ?? "no critical log line"}");
        if (exited.ExitCode == 0)
        {
            return;
        }

        Append($"[supervisor] exited with code {exited.ExitCode}; starting it again");
        _ = Task.Run(async () =>
        {
            await _lifecycle.WaitAsync();
            try
            {
                // The test may have killed or started it since.
                if (!_stopping && exited == _process)
                {
                    await StartLockedAsync();
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Append($"[supervisor] could not start it again: {e.Message}");
            }
            finally
            {
                _lifecycle.Release();
            }
        });
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_logGate)
        {
            _log.AppendLine($"[{Service}/{Instance}] {line}");
            // The console logger writes "crit: Category[id]" and the message on the next line.
            if (_criticalFollows)
            {
                _lastCritical = line.Trim();
            }

            _criticalFollows = line.StartsWith("crit: ", StringComparison.Ordinal);
        }
    }

}

public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// The configuration this test assembly was built in; the services are run from the same one.
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Agentry.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException("Agentry.sln was not found above " + AppContext.BaseDirectory);
    }
}
