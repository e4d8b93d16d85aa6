using Microsoft.Extensions.DependencyInjection;
using System.Text;
using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents.Tools;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Microsoft.Extensions.Options;

namespace Agentry.Tools;

/// Limits of the JavaScript sandbox (Tools:JavaScript).
public sealed class JavaScriptToolOptions
{
    public const string Section = "Tools:JavaScript";

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// Bytes the program may allocate in all (Jint counts the allocations of the thread it runs on).
    public long MemoryLimitBytes { get; set; } = 64L * 1024 * 1024;

    public int MaxStatements { get; set; } = 1_000_000;

    public int MaxRecursionDepth { get; set; } = 200;

    public uint MaxArraySize { get; set; } = 1_000_000;
}

/// JavaScript in Jint, an interpreter written in C#: there is no CLR access (AllowClr is never
/// called, so `System`, `importNamespace` and `require` do not exist) and no host function at all:
/// console.log is plain JavaScript that collects lines, returned with the program's last value.
public sealed class JavaScriptTool(IOptionsMonitor<JavaScriptToolOptions> options) : ITool
{
    public static readonly ToolDescriptor Descriptor = new("run_javascript", "Runs a JavaScript (ECMAScript 2023) program in a sandbox with no network, files or host access, and returns the value of its last expression and anything it printed with console.log. Time, memory and recursion are limited.", ToolSchema.ClosedObject("""
        "code": { "type": "string", "minLength": 1, "maxLength": 20000, "description": "The program; the value of its last statement is the result, for example [1,2,3].map(x => x * x)." }
        """, "code"));

    private const string Prelude = "const __agentryLog = []; const console = Object.freeze({ log: (...a) => { __agentryLog.push(a.map(x => typeof x === 'string' ? x : JSON.stringify(x)).join(' ')); } });";

    // Jint checks the memory limit between statements, so one native call that builds a huge string
    // ('x'.repeat(1e9)) would allocate it all first: these calls are checked before they run.
    private const string StringGuards = """
        (() => {
          const max = __MAX__;
          const guard = (name, size) => {
            const original = String.prototype[name];
            Object.defineProperty(String.prototype, name, { writable: false, configurable: false, enumerable: false,
              value: function (...args) { if (size(String(this), args) > max) { throw new RangeError('Invalid string length: the sandbox allows ' + max + ' characters'); } return original.apply(this, args); } });
          };
          guard('repeat', (s, a) => s.length * Number(a[0]));
          guard('padStart', (s, a) => Number(a[0]));
          guard('padEnd', (s, a) => Number(a[0]));
        })();
        """;

    public static ToolPack Pack { get; } = ToolPack.Of([Descriptor], (services, _) =>
    {
        services.AddOptions<JavaScriptToolOptions>().BindConfiguration(JavaScriptToolOptions.Section);
        services.AddSingleton<ITool, JavaScriptTool>();
    });

    public string Name => Descriptor.Name;

    public Task<string> InvokeAsync(JsonElement arguments, ToolInvocation invocation, CancellationToken cancellationToken)
    {
        var code = arguments.GetProperty("code").GetString()!;
        var settings = options.CurrentValue;
        // The interpreter is synchronous: on its own thread, its time limit and the token stop it.
        return Task.Factory.StartNew(() => Run(code, settings, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private static string Run(string code, JavaScriptToolOptions settings, CancellationToken cancellationToken)
    {
        using var engine = new Engine(o => o
            .Strict(false)
            .TimeoutInterval(settings.Timeout)
            .LimitMemory(settings.MemoryLimitBytes)
            .MaxStatements(settings.MaxStatements)
            .LimitRecursion(settings.MaxRecursionDepth)
            .MaxArraySize(settings.MaxArraySize)
            .CancellationToken(cancellationToken));
        try
        {
            engine.Execute(Prelude);
            engine.Execute(StringGuards.Replace("__MAX__", (settings.MemoryLimitBytes / 4).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
            var value = engine.Evaluate(code);
            var result = new StringBuilder();
            foreach (var line in engine.Evaluate("__agentryLog").AsArray())
            {
                result.AppendLine(line.ToString());
            }

            result.Append(Show(engine, value));
            return result.ToString();
        }
        catch (TimeoutException)
        {
            throw new ToolException(ToolErrorKind.Timeout, $"The program ran longer than {settings.Timeout.TotalSeconds:0.#}s and was stopped.", causedByCaller: true);
        }
        catch (MemoryLimitExceededException)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The program allocated more than {settings.MemoryLimitBytes / (1024 * 1024)} MiB and was stopped.", causedByCaller: true);
        }
        catch (StatementsCountOverflowException)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The program ran more than {settings.MaxStatements} statements and was stopped.", causedByCaller: true);
        }
        catch (RecursionDepthOverflowException)
        {
            throw new ToolException(ToolErrorKind.Failed, $"The program recursed deeper than {settings.MaxRecursionDepth} calls and was stopped.", causedByCaller: true);
        }
        catch (ExecutionCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ToolException(ToolErrorKind.Timeout, "The program was stopped.");
        }
        catch (JavaScriptException e) // a syntax error too: Jint reports it as a thrown SyntaxError
        {
            throw new ToolException(ToolErrorKind.Failed, $"The program threw: {e.Message}", causedByCaller: true);
        }
    }

    private static string Show(Engine engine, JsValue value) =>
        value.IsString() ? value.AsString()
        : value.IsUndefined() ? "undefined"
        : new Jint.Native.Json.JsonSerializer(engine).Serialize(value, JsValue.Undefined, JsValue.Undefined).ToString();
}
