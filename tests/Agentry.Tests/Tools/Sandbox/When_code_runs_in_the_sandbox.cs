using Agentry.Agents;
using Agentry.Contracts;
using Agentry.Tools;

namespace Agentry.Tests.Tools.Sandbox;

[TestFixture]
public sealed class When_code_runs_in_the_sandbox
{
    private SandboxTestHost _host = null!;

    [SetUp]
    public void Start() => _host = new SandboxTestHost();

    [TearDown]
    public void Stop() => _host.Dispose();

    [Test]
    public async Task Should_return_the_output_and_the_execution_record()
    {
        var result = await _host.PythonAsync("print(6 * 7)");

        Assert.That(result, Does.StartWith("exit 0 | "));
        Assert.That(result, Does.Contain("[stdout]" + Environment.NewLine + "42"));
        Assert.That(result, Does.Match(@"cpu [0-9.]+ s \| peak memory [0-9.]+ (KiB|MiB)"));
        Assert.That(result, Does.Contain("code sha256:").And.Contain("limits wall 10 s, cpu 10 s, memory 256 MiB, processes 64, output 8 KiB, workspace 100 MiB"));
    }

    [Test]
    public async Task Should_run_as_an_unprivileged_user_without_new_privileges_under_seccomp()
    {
        var result = await _host.PythonAsync("""
            import ctypes, os
            status = dict(l.split(':\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\t' in l)
            print('uid', os.getuid(), 'nnp', status['NoNewPrivs'].strip(), 'seccomp', status['Seccomp'].strip())
            print('ptrace', ctypes.CDLL(None).syscall(101, 0, 0, 0, 0))
            try:
                os.open('/dev/tty', os.O_RDWR); print('tty')
            except OSError:
                print('no-tty')
            """);
        var shell = await _host.ShellAsync("unshare -U true && echo nested-userns || echo no-nested-userns; hostname");

        Assert.That(result, Does.Contain("uid 1000 nnp 1 seccomp 2"));
        Assert.That(result, Does.Contain("ptrace -1"), "PTRACE_TRACEME is denied by the seccomp filter");
        Assert.That(result, Does.Contain("no-tty"), "a new session: no TIOCSTI into the service's terminal (CVE-2017-5226)");
        Assert.That(shell, Does.Contain("no-nested-userns").And.Contain("sandbox"));
    }

    [Test]
    public async Task Should_keep_files_for_the_run_and_share_them_with_the_file_tools()
    {
        var write = _host.Tool<WriteFileTool>();
        await write.InvokeAsync(System.Text.Json.JsonSerializer.SerializeToElement(new { path = "src/calc.py", content = "def add(a, b):\n    return a - b\n" }), _host.Run, CancellationToken.None);

        var failing = await _host.ShellAsync("python3 -c 'import sys; sys.path.insert(0, \"src\"); import calc; assert calc.add(2, 2) == 4'");
        await _host.PythonAsync("open('src/calc.py', 'w').write('def add(a, b):\\n    return a + b\\n')");
        var passing = await _host.ShellAsync("python3 -c 'import sys; sys.path.insert(0, \"src\"); import calc; assert calc.add(2, 2) == 4' && echo tests pass");
        var read = await _host.Tool<ReadFileTool>().InvokeAsync(System.Text.Json.JsonSerializer.SerializeToElement(new { path = "src/calc.py" }), _host.Run, CancellationToken.None);

        Assert.That(failing, Does.StartWith("exit 1 "));
        Assert.That(passing, Does.StartWith("exit 0 ").And.Contain("tests pass"));
        Assert.That(read, Does.Contain("return a + b"));
    }

    [Test]
    public async Task Should_mount_inputs_read_only()
    {
        using var data = new TempFolder();
        data.Write("sample.csv", "id,amount\n1,10\n2,32\n");
        _host.Run = _host.Run with { Sandbox = new AgentSandbox { Inputs = [new SandboxInput("data", data.Path)] } };

        var result = await _host.PythonAsync("""
            import csv
            print(sum(int(r['amount']) for r in csv.DictReader(open('inputs/data/sample.csv'))))
            try:
                open('inputs/data/sample.csv', 'w').write('changed')
            except OSError as e:
                print('refused:', e.strerror)
            """);

        Assert.That(result, Does.Contain("42").And.Contain("refused: Read-only file system"));
        Assert.That(File.ReadAllText(data.File("sample.csv")), Does.StartWith("id,amount"));
    }

    [Test]
    public async Task Should_never_show_host_paths()
    {
        var result = await _host.PythonAsync("import os; print(os.getcwd(), os.path.realpath('.'), os.environ.get('HOME')); open('/nope/x')");

        Assert.That(result, Does.Contain("/workspace /workspace /workspace"));
        Assert.That(result, Does.Not.Contain(_host.Root.Path));
    }

    [Test]
    public async Task Should_cut_a_hundred_megabytes_of_stdout_and_say_so()
    {
        var result = await _host.PythonAsync("import sys\nfor _ in range(100): sys.stdout.write('x' * (1 << 20))");

        Assert.That(result, Does.Contain($"[stdout cut: the first {8 << 10} of {100 << 20} bytes are shown]"));
        Assert.That(result.Length, Is.LessThan(10_000));
    }
}
