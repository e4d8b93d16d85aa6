using Agentry.Planner.Persistence;

namespace Agentry.Planner.StateMachines;

/// Where the Redis saga repository keeps runs, for how long, and in which schema version.
public static class AgentRunPersistence
{
    /// Active runs never expire (their deadline ends them); finished ones expire after the retention.
    /// A state over maxBytes (Payloads:MaxStateBytes) is refused (docs/durability.md).
    public static RedisSagaRepositoryOptions<AgentRunState> RedisOptions(PlannerRedisOptions options, SchemaOptions schema, int? maxBytes = null) =>
        new(
            options.RunKeyPrefix,
            run => AgentRunStateMachine.FinishedStates.Contains(run.CurrentState) ? options.FinishedRunRetention : null,
            AgentRunStateVersions.Schema(schema.Write)) { MaxBytes = maxBytes };
}
