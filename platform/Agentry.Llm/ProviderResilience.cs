using System.ClientModel;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.SemanticKernel;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Retry;
using Polly.Timeout;

namespace Agentry.Llm;

/// The resilience of one provider, around the connector call rather than its HttpClient: there the
/// failures are already the connector's (HttpOperationException with the status and the raw
/// response), so Retry-After, the breaker and the fallback decision all read one shape, and the
/// offline model and any other IChatCompletionService go through the same pipeline.
/// Outer to inner: retry, circuit breaker, concurrency limit, timeout per attempt.
public static partial class ProviderResilience
{
    public static ResiliencePipeline Build(string provider, LlmProviderOptions options, TimeProvider clock, ILogger logger)
    {
        var builder = new ResiliencePipelineBuilder { Name = $"agentry-llm-{provider}", TimeProvider = clock };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                // A provider that asks for a longer wait than we will give it is left for the next model.
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && IsTransient(e) && !(RetryAfter(e) > options.MaxRetryAfter)),
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Exception is { } e ? RetryAfter(e) : null),
                OnRetry = args =>
                {
                    LogRetry(logger, provider, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, Describe(args.Outcome.Exception!, options.Timeout));
                    return ValueTask.CompletedTask;
                },
            });
        }

        if (options.CircuitBreaker.Enabled)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.CircuitBreaker.FailureRatio,
                MinimumThroughput = options.CircuitBreaker.MinimumThroughput,
                SamplingDuration = options.CircuitBreaker.SamplingDuration,
                BreakDuration = options.CircuitBreaker.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e)),
                OnOpened = args =>
                {
                    LogCircuitOpened(logger, provider, args.BreakDuration.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            });
        }

        if (options.MaxConcurrency > 0)
        {
            builder.AddConcurrencyLimiter(options.MaxConcurrency, options.MaxConcurrency);
        }

        builder.AddTimeout(options.Timeout);
        return builder.Build();
    }

    /// Worth trying again on the same provider: a timeout, HTTP 429 or 5xx, or no answer at all.
    public static bool IsTransient(Exception e) => e switch
    {
        TimeoutRejectedException => true,
        HttpOperationException { StatusCode: { } status } => status == HttpStatusCode.TooManyRequests || (int)status >= 500,
        HttpOperationException { InnerException: HttpRequestException } => true,
        HttpRequestException => true,
        _ => false,
    };

    /// Worth asking the next model of the chain: a transient failure the retries did not cure, an
    /// open circuit, or a provider with no room for another call.
    public static bool ShouldFallBack(Exception e) =>
        IsTransient(e) || e is BrokenCircuitException or RateLimiterRejectedException;

    /// The wait the provider asked for: OpenAI's retry-after-ms, else Retry-After (seconds or a date).
    public static TimeSpan? RetryAfter(Exception e)
    {
        var response = (e as HttpOperationException)?.InnerException is ClientResultException result ? result.GetRawResponse() : null;
        if (response is null)
        {
            return null;
        }

        if (response.Headers.TryGetValue("retry-after-ms", out var ms)
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds) && milliseconds >= 0)
        {
            return TimeSpan.FromMilliseconds(milliseconds);
        }

        if (response.Headers.TryGetValue("Retry-After", out var value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }

    /// One line for a step's failure reason or a log: what went wrong, never the request or its key.
    public static string Describe(Exception e, TimeSpan timeout) => e switch
    {
        TimeoutRejectedException => $"no reply within the timeout of {timeout.TotalSeconds:0.###}s",
        BrokenCircuitException => "not called: its circuit is open after repeated failures",
        RateLimiterRejectedException => "not called: too many calls to it are already waiting (MaxConcurrency)",
        HttpOperationException { StatusCode: { } status } h => $"HTTP {(int)status} {status}{ErrorDetail(h)}",
        HttpOperationException { InnerException: HttpRequestException inner } => $"unreachable: {inner.Message}",
        HttpRequestException inner => $"unreachable: {inner.Message}",
        System.Text.Json.JsonException json => $"its reply is not a readable chat completion (malformed JSON: {FirstLine(json.Message)})",
        _ => FirstLine(e.Message),
    };

    // OpenAI-style error bodies carry a readable message; show it, briefly.
    private static string ErrorDetail(HttpOperationException e)
    {
        if (string.IsNullOrWhiteSpace(e.ResponseContent))
        {
            return "";
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(e.ResponseContent);
            if (document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == System.Text.Json.JsonValueKind.Object
                && error.TryGetProperty("message", out var message))
            {
                return $" ({Shorten(message.GetString() ?? "")})";
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // Not JSON: an HTML error page, say; its status says enough.
        }

        return "";
    }

    private static string FirstLine(string text) => Shorten(text.Split('\n', 2)[0].Trim());

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    [LoggerMessage(Level = LogLevel.Information, Message = "Model provider {Provider}: attempt {Attempt} in {DelayMs} ms after: {Failure}")]
    private static partial void LogRetry(ILogger logger, string provider, int attempt, double delayMs, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model provider {Provider}: circuit opened for {Seconds} s after repeated failures.")]
    private static partial void LogCircuitOpened(ILogger logger, string provider, double seconds);
}
