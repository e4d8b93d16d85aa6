using Agentry.Contracts;
using Agentry.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Memory;

/// A host disposed without stopping first (a test's server, a stop that timed out) disposes its
/// singletons while the bus still drains: a consumer that writes then must still get through, or the
/// bus's stop waits for it forever (CI hung 40 minutes on this in the lead-outreach case test, with
/// a context request waiting for the one writer of a disposed database).
public sealed class When_the_memory_database_is_disposed_while_writers_wait
{
    [Test]
    public async Task Should_still_record_a_run_after_the_container_is_disposed()
    {
        using var folder = new TempFolder();
        var services = new ServiceCollection()
            .AddSingleton<IOptions<MemoryOptions>>(Options.Create(new MemoryOptions { SqliteConnectionString = folder.SqliteConnectionString }))
            .AddSingleton<SqliteMemoryDatabase>()
            .BuildServiceProvider();
        var store = new SqliteTranscriptStore(services.GetRequiredService<SqliteMemoryDatabase>());

        await services.DisposeAsync();

        var runId = Guid.NewGuid();
        await store.StartRunAsync(new RunStart(runId, "t", "assistant", "goal", null, DateTimeOffset.UtcNow), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That((await store.GetAsync(runId, CancellationToken.None)).Goal, Is.EqualTo("goal"));
    }
}
