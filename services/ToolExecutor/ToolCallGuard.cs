using System.Collections.Concurrent;
using Agentry.Contracts;
using Agentry.Tools;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;

namespace Agentry.ToolExecutor;

/// What every tool call goes through once it is allowed to run: the tool's time limit, its circuit
/// breaker (one per tool, so a dead API stops being called for a while and its callers learn why at
/// once) and the cap on what it returns.
public sealed partial class ToolCallGuard(IOptions<ToolExecutorOptions> options, TimeProvider clock, ILogger<ToolCallGuard> logger)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline<Attempt>> _breakers = new(StringComparer.Ordinal);

    /// The output, or the tool's error kind and message; Tripped marks a failure that speaks
    /// against the tool itself (a crash, a timeout, a failure not caused by the arguments).
    public readonly record struct Attempt(string Output, ToolErrorKind Kind, string? Error, bool Tripped);

    public async Task<Attempt> RunAsync(string tool, Func<CancellationToken, Task<string>> invoke, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        Attempt attempt;
        try
        {
            attempt = await Breaker(tool).ExecuteAsync(async token => await InvokeAsync(tool, invoke, settings.TimeoutFor(tool), token), cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            var retryAfter = e.RetryAfter is { } wait ? $" for about {Math.Ceiling(wait.TotalSeconds):0}s more" : "";
            attempt = new Attempt("", ToolErrorKind.Failed,
                $"{tool} is not being called{retryAfter}: it kept failing or timing out recently (the ToolExecutor's circuit breaker for it is open). Try another way, or try it again later.", false);
        }

        return attempt with { Output = Cap(attempt.Output, settings.MaxOutputChars), Error = attempt.Error is null ? null : Cap(attempt.Error, settings.MaxOutputChars) };
    }

    private async Task<Attempt> InvokeAsync(string tool, Func<CancellationToken, Task<string>> invoke, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            // WaitAsync: a tool that ignores its token is abandoned rather than waited for.
            return new Attempt(await invoke(limit.Token).WaitAsync(limit.Token), ToolErrorKind.None, null, false);
        }
        catch (ToolException e)
        {
            return new Attempt("", e.Kind, e.Message, !e.CausedByCaller && e.Kind is ToolErrorKind.Failed or ToolErrorKind.Timeout);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Attempt("", ToolErrorKind.Timeout, $"{tool} did not finish within {timeout.TotalSeconds:0.#}s.", true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogToolCrashed(logger, tool, e);
            return new Attempt("", ToolErrorKind.Failed, $"{tool} failed: {e.Message}", true);
        }
    }

    private ResiliencePipeline<Attempt> Breaker(string tool) => _breakers.GetOrAdd(tool, name =>
    {
        var settings = options.Value.CircuitBreaker;
        var builder = new ResiliencePipelineBuilder<Attempt> { Name = $"agentry-tool-{name}", TimeProvider = clock };
        if (settings.Enabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<Attempt>
            {
                FailureRatio = settings.FailureRatio,
                MinimumThroughput = settings.MinimumThroughput,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result.Tripped),
                OnOpened = args =>
                {
                    LogBreakerOpened(logger, name, args.BreakDuration.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        return builder.Build();
    });

    /// The one way a tool's output or error is cut to Tools:MaxOutputChars, with a note saying so.
    internal static string Cap(string text, int max) =>
        text.Length <= max ? text : $"{text[..max]}{Environment.NewLine}[output truncated: the first {max} of {text.Length} characters are shown]";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool {Tool} threw.")]
    private static partial void LogToolCrashed(ILogger logger, string tool, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tool {Tool} keeps failing: it is not called for {Seconds}s.")]
    private static partial void LogBreakerOpened(ILogger logger, string tool, double seconds);
}
