using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Tests.Tools.Sandbox;

/// Each attack must be contained (checked from the host, not only from what the code says) and
/// reported to the model as a typed outcome.
[TestFixture]
public sealed class When_hostile_code_runs_in_the_sandbox
{
    private static readonly AgentSandbox Tight = new(WallTime: TimeSpan.FromSeconds(4), CpuTime: TimeSpan.FromSeconds(1), MemoryBytes: 128L << 20, Processes: 32, WorkspaceBytes: 50L << 20);

    private SandboxTestHost _host = null!;

    [SetUp]
    public void Start() => _host = new SandboxTestHost(Tight);

    [TearDown]
    public void Stop() => _host.Dispose();

    [Test]
    public async Task Should_stop_a_fork_bomb_at_the_process_limit()
    {
        var stopped = await _host.LimitAsync(() => _host.PythonAsync("import os\nwhile True:\n    os.fork()"));

        Assert.That(stopped.Message, Does.StartWith("killed: process limit 32").Or.StartWith("killed: wall time limit 4 s"));
        Assert.That(SandboxTestHost.ProcessesWith("os.fork()"), Is.Empty, "no process of the bomb is left on the host");
    }

    [Test]
    public async Task Should_stop_a_memory_bomb_at_the_memory_limit()
    {
        var stopped = await _host.LimitAsync(() => _host.PythonAsync("chunks = []\nwhile True:\n    chunks.append(bytearray(1 << 20))"));

        Assert.That(stopped.Kind, Is.EqualTo(ToolErrorKind.Failed));
        Assert.That(stopped.Message, Does.StartWith("killed: memory limit 128 MiB"));
    }

    [Test]
    public async Task Should_stop_an_infinite_loop_at_the_cpu_limit()
    {
        var stopped = await _host.LimitAsync(() => _host.PythonAsync("while True:\n    pass"));

        Assert.That(stopped.Message, Does.StartWith("killed: CPU time limit 1 s"));
    }

    [Test]
    public async Task Should_stop_a_sleeper_at_the_wall_time_limit()
    {
        var clock = Stopwatch.StartNew();
        var stopped = await _host.LimitAsync(() => _host.ShellAsync("sleep 300.25"));

        Assert.That(stopped.Kind, Is.EqualTo(ToolErrorKind.Timeout));
        Assert.That(stopped.Message, Does.StartWith("killed: wall time limit 4 s"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(SandboxTestHost.ProcessesWith("sleep 300.25"), Is.Empty);
    }

    [Test]
    public async Task Should_leave_no_background_process_behind()
    {
        var result = await _host.ShellAsync("(setsid sleep 301.5 &) ; nohup sleep 301.5 >/dev/null 2>&1 & python3 -c 'import subprocess; subprocess.Popen([\"sleep\", \"301.5\"], start_new_session=True)'; echo started");

        Assert.That(result, Does.Contain("started"));
        Assert.That(SandboxTestHost.ProcessesWith("sleep 301.5"), Is.Empty, "the sandbox's PID namespace ends with the call");
    }

    [Test]
    public async Task Should_not_reach_the_host_loopback_nor_the_metadata_address()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var result = await _host.PythonAsync($$"""
            import socket
            for host, port in (('127.0.0.1', {{port}}), ('169.254.169.254', 80)):
                try:
                    socket.create_connection((host, port), timeout=2).close()
                    print(host, 'connected')
                except OSError as e:
                    print(host, 'blocked')
            """);
        var curl = await _host.ShellAsync($"(exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && echo tcp-connected || echo tcp-blocked; command -v curl >/dev/null && (curl -s -m 2 http://169.254.169.254/ && echo curl-connected || echo curl-blocked)");

        Assert.That(result, Does.Contain("127.0.0.1 blocked").And.Contain("169.254.169.254 blocked"));
        Assert.That(curl, Does.Contain("tcp-blocked").And.Not.Contain("connected"));
        Assert.That(listener.Pending(), Is.False, "nothing connected to the host's listener");
    }

    [Test]
    public async Task Should_not_read_the_hosts_secrets()
    {
        Environment.SetEnvironmentVariable("AGENTRY_SANDBOX_TEST_SECRET", "hunter2-sandbox");
        try
        {
            var result = await _host.ShellAsync($"cat /etc/shadow; cat /etc/passwd; env; cat /proc/1/environ; cat /proc/{Environment.ProcessId}/environ; ls /root /home; true");

            Assert.That(result, Does.Not.Contain("hunter2-sandbox"));
            Assert.That(result, Does.Contain("/etc/shadow: No such file or directory"));
            Assert.That(result, Does.Not.Contain("root:"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("AGENTRY_SANDBOX_TEST_SECRET", null);
        }
    }

    [Test]
    public async Task Should_not_write_outside_the_workspace()
    {
        var outside = Path.Combine(_host.Root.Path, "escape.txt");
        var result = await _host.PythonAsync("""
            import os
            for path in ('../escape.txt', '/escape.txt', '/usr/escape.txt', '/etc/escape.txt'):
                try:
                    open(path, 'w').write('x'); print(path, 'written')
                except OSError as e:
                    print(path, 'refused')
            os.symlink('/', 'root-link')
            os.symlink('..', 'up-link')
            for path in ('root-link/usr/escape.txt', 'up-link/escape.txt'):
                try:
                    open(path, 'w').write('x'); print(path, 'written')
                except OSError:
                    print(path, 'refused')
            """);

        Assert.That(result, Does.Not.Contain("written"), "the sandbox's root is read-only; only /workspace and /tmp take writes");
        Assert.That(File.Exists(outside), Is.False);
        Assert.That(File.Exists("/usr/escape.txt") || File.Exists("/escape.txt") || File.Exists("/etc/escape.txt"), Is.False);
        var read = _host.Tool<ReadFileTool>();
        var refused = Assert.ThrowsAsync<ToolException>(() => read.InvokeAsync(System.Text.Json.JsonSerializer.SerializeToElement(new { path = "root-link/etc/hostname" }), _host.Run, CancellationToken.None));
        Assert.That(refused!.Kind, Is.EqualTo(ToolErrorKind.PermissionDenied), "the file tools do not follow the sandbox's links out");
    }

    [Test]
    public async Task Should_stop_a_zip_bomb_at_the_workspace_limit()
    {
        await _host.PythonAsync("""
            import zipfile
            with zipfile.ZipFile('bomb.zip', 'w', zipfile.ZIP_DEFLATED) as z:
                for i in range(10):
                    with z.open(f'part{i}.bin', 'w') as f:
                        for _ in range(20):
                            f.write(bytes(1 << 20))
            """);
        Assert.That(new FileInfo(Path.Combine(_host.Workspace, "bomb.zip")).Length, Is.LessThan(2 << 20));

        var stopped = await _host.LimitAsync(() => _host.ShellAsync("python3 -c 'import zipfile; zipfile.ZipFile(\"bomb.zip\").extractall(\"out\")'"));

        Assert.That(stopped.Message, Does.StartWith("killed: workspace limit 50 MiB"));
        var left = Directory.EnumerateFiles(_host.Workspace, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.That(left, Is.LessThan(50L << 20));
        Assert.That(File.Exists(Path.Combine(_host.Workspace, "bomb.zip")), Is.True, "files from before the call are kept");
    }

    [Test]
    public async Task Should_not_kill_processes_outside_the_sandbox()
    {
        // The victim runs as the sandbox's own host uid where possible, so that only the PID namespace protects it.
        var asSandboxUser = Environment.IsPrivilegedProcess ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
        using var victim = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"exec {asSandboxUser}sleep 302.75"]))!;
        try
        {
            var result = await _host.ShellAsync($"kill -9 {victim.Id}; kill -9 -1; echo done");

            Assert.That(result, Does.StartWith("exit "), "kill -9 -1 ends the sandbox's own shell, nothing else");
            Assert.That(victim.HasExited, Is.False, "the host's process survived");
        }
        finally
        {
            victim.Kill();
        }
    }
}
