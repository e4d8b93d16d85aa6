using System.Globalization;
using System.Text.Json;
using Agentry.Evaluation.Online;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Agentry.Evaluator.Online;

/// Online grades shared by every Evaluator of a deployment, so that replicas and restarts see one
/// sequence per agent and one set of windows. A run is a hash (its grades and its place); each agent
/// has its scored runs by place and its graded runs in the order they were recorded. One script
/// stores a run and gives it its place, so two replicas never give the same place twice. Every key
/// carries the hash tag {online}: the script touches keys it only learns while it runs.
public sealed class RedisOnlineGradeStore(IConnectionMultiplexer redis, IOptions<EvaluatorRedisOptions> options, int keptPerAgent = RedisOnlineGradeStore.KeptPerAgent) : IOnlineGradeStore
{
    /// Twice the largest alert window an agent may declare (10,000): a window's comparison needs
    /// the two latest windows, so older runs are forgotten.
    public const int KeptPerAgent = 20_000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly LuaScript Record = LuaScript.Prepare(
        """
        if redis.call('EXISTS', @run) == 1 then
          return {0, redis.call('HGET', @run, 'json'), redis.call('HGET', @run, 'seq')}
        end
        local seq = 0
        if @scored == '1' then
          seq = redis.call('HINCRBY', @counters, 'scored', 1)
          redis.call('ZADD', @scoredRuns, seq, @runId)
        end
        redis.call('ZADD', @recordedRuns, redis.call('HINCRBY', @counters, 'recorded', 1), @runId)
        redis.call('HSET', @run, 'json', @json, 'seq', seq)
        local keep = tonumber(@keep)
        for _, set in ipairs({@scoredRuns, @recordedRuns}) do
          local old = redis.call('ZRANGE', set, 0, -(keep + 1))
          if #old > 0 then
            redis.call('ZREMRANGEBYRANK', set, 0, -(keep + 1))
            for _, id in ipairs(old) do
              if not redis.call('ZSCORE', @scoredRuns, id) and not redis.call('ZSCORE', @recordedRuns, id) then
                redis.call('DEL', @runPrefix .. id)
              end
            end
          end
        end
        return {1, @json, seq}
        """);

    public async Task<(OnlineRunGrades Stored, bool IsNew)> RecordAsync(OnlineRunGrades grades, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Record, new
        {
            run = (RedisKey)RunKey(grades.RunId),
            counters = (RedisKey)AgentKey(grades.Agent, "counters"),
            scoredRuns = (RedisKey)AgentKey(grades.Agent, "scored"),
            recordedRuns = (RedisKey)AgentKey(grades.Agent, "recorded"),
            runId = grades.RunId.ToString("D"),
            scored = grades.Score is null ? "0" : "1",
            json = JsonSerializer.Serialize(grades with { Sequence = 0 }, Json),
            keep = keptPerAgent.ToString(CultureInfo.InvariantCulture),
            runPrefix = RunKey(null),
        }))!;
        return (Read((string)result[1]!, (long)result[2]), (long)result[0] == 1);
    }

    public async Task<OnlineRunGrades?> GetAsync(Guid runId, CancellationToken cancellationToken)
    {
        var fields = await redis.GetDatabase().HashGetAsync(RunKey(runId), ["json", "seq"]);
        return fields[0].IsNull ? null : Read((string)fields[0]!, (long)fields[1]);
    }

    public async Task<IReadOnlyList<OnlineRunGrades>> ScoredAsync(string agent, long first, long last, CancellationToken cancellationToken)
    {
        var runIds = await redis.GetDatabase().SortedSetRangeByScoreAsync(AgentKey(agent, "scored"), first, last, order: Order.Ascending);
        return await ReadAllAsync(runIds);
    }

    public async Task<IReadOnlyList<OnlineRunGrades>> LatestAsync(string agent, int count, CancellationToken cancellationToken)
    {
        var runIds = await redis.GetDatabase().SortedSetRangeByRankAsync(AgentKey(agent, "recorded"), 0, count - 1, Order.Descending);
        return await ReadAllAsync(runIds);
    }

    private async Task<IReadOnlyList<OnlineRunGrades>> ReadAllAsync(RedisValue[] runIds)
    {
        var database = redis.GetDatabase();
        var reads = runIds.Select(id => database.HashGetAsync(RunKey(Guid.Parse((string)id!)), ["json", "seq"])).ToList();
        var runs = new List<OnlineRunGrades>(reads.Count);
        foreach (var read in reads)
        {
            var fields = await read;
            if (!fields[0].IsNull)
            {
                runs.Add(Read((string)fields[0]!, (long)fields[1]));
            }
        }

        return runs;
    }

    private static OnlineRunGrades Read(string json, long sequence) =>
        (JsonSerializer.Deserialize<OnlineRunGrades>(json, Json) ?? throw new InvalidDataException("An online grade record in Redis is empty."))
            with { Sequence = sequence };

    private string RunKey(Guid? runId) => $"{options.Value.KeyPrefix}{{online}}:run:{runId:D}";

    private string AgentKey(string agent, string what) => $"{options.Value.KeyPrefix}{{online}}:agent:{agent}:{what}";
}
