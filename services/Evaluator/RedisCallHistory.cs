using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Evaluator;

public sealed class EvaluatorRedisOptions
{
    public const string Section = "Evaluator:Redis";

    [Required(AllowEmptyStrings = false)]
    public string KeyPrefix { get; set; } = "agentry:";

    /// A run's history is normally forgotten when the run ends; the expiry only cleans up after runs
    /// whose end the Evaluator never saw. Each recorded step restarts it.
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan CallHistoryExpiry { get; set; } = TimeSpan.FromDays(1);
}

/// Call history shared by every Evaluator: one hash per run, one field per step holding that
/// step's fingerprints as JSON. Writing a step replaces its field, so a redelivered ToolResult
/// records nothing new and gets the same earlier steps back.
public sealed class RedisCallHistory(IConnectionMultiplexer redis, IOptions<EvaluatorRedisOptions> options) : ICallHistory
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public async Task<IReadOnlyList<CallFingerprint>> RecordAsync(Guid runId, int step, IReadOnlyList<CallFingerprint> calls, CancellationToken cancellationToken)
    {
        var key = Key(runId);
        // One transaction: the step is stored and the history read back as of that write.
        var transaction = redis.GetDatabase().CreateTransaction();
        var stored = transaction.HashSetAsync(key, step.ToString(CultureInfo.InvariantCulture), JsonSerializer.Serialize(calls, Json));
        var expiry = transaction.KeyExpireAsync(key, options.Value.CallHistoryExpiry);
        var all = transaction.HashGetAllAsync(key);
        await transaction.ExecuteAsync();
        await Task.WhenAll(stored, expiry);

        return (await all)
            .Select(entry => (Step: int.Parse((string)entry.Name!, CultureInfo.InvariantCulture), entry.Value))
            .Where(entry => entry.Step < step)
            .OrderBy(entry => entry.Step)
            .SelectMany(entry => JsonSerializer.Deserialize<List<CallFingerprint>>((string)entry.Value!, Json) ?? [])
            .ToList();
    }

    public Task ForgetAsync(Guid runId, CancellationToken cancellationToken) =>
        redis.GetDatabase().KeyDeleteAsync(Key(runId));

    private RedisKey Key(Guid runId) => $"{options.Value.KeyPrefix}calls:{runId:D}";
}
