using MassTransit.Testing;

namespace Agentry.Tests;

/// Waits for a harness list to hold a matching element. The harness's own Any() stops waiting once
/// the bus has been idle, which it has been after the first exchange of a test; a second delivery
/// in the same test needs a wait of its own.
public static class Eventually
{
    private static readonly CancellationToken OnlyWhatIsThere = new(canceled: true);

    public static async Task<TElement> Find<TElement>(IAsyncElementList<TElement> list, FilterDelegate<TElement> filter, string what)
        where TElement : class, IAsyncListElement
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (list.Select(filter, OnlyWhatIsThere).FirstOrDefault() is { } found)
            {
                return found;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(20))
            {
                Assert.Fail($"{what} did not happen within 20 s");
            }

            await Task.Delay(20);
        }
    }

    /// Reads until the read finds something, for 30 s at most.
    public static async Task<T> Until<T>(Func<Task<T?>> read, string what)
        where T : class
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await read() is { } found)
            {
                return found;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(50);
        }
    }

    /// Reads the Gateway's GET /runs/{id} until Memory has recorded the run (404 before) and the
    /// condition holds.
    public static Task<Agentry.Contracts.RunView> RunAsync(HttpClient gateway, Guid runId, Func<Agentry.Contracts.RunView, bool> until, string what) =>
        Until(async () =>
        {
            using var response = await gateway.GetAsync($"/runs/{runId}");
            return response.IsSuccessStatusCode
                && await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Agentry.Contracts.RunView>(response.Content) is { Found: true } run && until(run)
                ? run
                : null;
        }, what);
}
