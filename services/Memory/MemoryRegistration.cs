using Agentry.Agents;
using Agentry.ServiceDefaults.Payloads;
using Agentry.Llm;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Driver;

namespace Agentry.Memory;

public static class MemoryRegistration
{
    /// A `mongodb` connection string selects MongoDB for every store (transcripts, approvals,
    /// summaries, memory items, knowledge, the audit trail and artifacts); without one they live in the
    /// embedded SQLite file.
    public static IServiceCollection AddMemory(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddAgentryPayloads(configuration);
        // Bound either way: the deployment files keep the SQLite fallback's location beside `mongodb`.
        services.AddOptions<MemoryOptions>().Configure(options =>
        {
            if (configuration.GetConnectionString(MemoryOptions.SqliteConnectionName) is { Length: > 0 } sqlite)
            {
                options.SqliteConnectionString = sqlite;
            }
        });
        // One database object per backend, shared by its six stores: one file or MongoDB database,
        // one schema or index set, one health check.
        if (configuration.GetConnectionString(MongoMemoryDatabase.ConnectionName) is { Length: > 0 } mongodb)
        {
            AddMongoStores(services, mongodb);
        }
        else
        {
            AddSqliteStores(services);
        }

        AddKnowledge(services, configuration);

        // Context assembly (summaries) and the extraction of long-term memory at the end of a run ask the
        // agent's model through the same chain, cache and resilience as its planning calls (in one
        // process, the Planner's registration is shared).
        services.AddAgentryLlm(configuration);
        services.TryAddSingleton<RunStarts>();
        services.TryAddSingleton<RunLineages>();
        services.TryAddSingleton<ContextTokens>();
        services.ResolveAtStart<ContextTokens>();
        services.TryAddSingleton<TranscriptSummarizer>();
        services.TryAddSingleton<ContextBuilder>();
        services.ResolveAtStart<ITranscriptStore>();
        services.AddPinnedAgents();
        return services;
    }

    /// The knowledge base: the offline embedder unless Llm:Embeddings:Provider names a model provider,
    /// and hybrid retrieval (BM25 and vectors) over in-memory indexes of the collections.
    private static void AddKnowledge(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KnowledgeOptions>().BindConfiguration(KnowledgeOptions.Section);
        var embeddings = configuration.GetSection(EmbeddingOptions.Section).Get<EmbeddingOptions>() ?? new EmbeddingOptions();
        if (!string.IsNullOrWhiteSpace(embeddings.Provider))
        {
            services.TryAddSingleton<ITextEmbedder>(_ => new ProviderEmbedder(
                configuration.GetSection(LlmOptions.Section).Get<LlmOptions>() ?? new LlmOptions(), embeddings));
        }
        else
        {
            services.TryAddSingleton<ITextEmbedder>(_ => new HashingEmbedder());
        }

        services.TryAddSingleton<IKnowledgeRetriever, HybridRetriever>();
        services.TryAddSingleton<KnowledgeBase>();
        services.ResolveAtStart<ITextEmbedder>();
    }

    private static void AddMongoStores(IServiceCollection services, string connectionString)
    {
        MongoUrl url;
        try
        {
            url = MongoUrl.Create(connectionString);
        }
        catch (MongoConfigurationException e)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{MongoMemoryDatabase.ConnectionName} is not a MongoDB connection string ({e.Message}). Expected mongodb://host:27017/agentry.", e);
        }

        services.TryAddSingleton<IMongoClient>(_ => new MongoClient(url));
        services.TryAddSingleton(provider => new MongoMemoryDatabase(provider.GetRequiredService<IMongoClient>().GetDatabase(url.DatabaseName ?? MongoMemoryDatabase.DefaultDatabase)));
        services.TryAddSingleton<ITranscriptStore, MongoTranscriptStore>();
        services.TryAddSingleton<IApprovalStore, MongoApprovalStore>();
        services.TryAddSingleton<ISummaryStore, MongoSummaryStore>();
        services.TryAddSingleton<IMemoryItemStore, MongoMemoryItemStore>();
        services.TryAddSingleton<IKnowledgeStore, MongoKnowledgeStore>();
        services.TryAddSingleton<IAuditStore, MongoAuditStore>();
        services.TryAddSingleton<IArtifactStore, MongoArtifactStore>();
        services.AddHostedService<MongoIndexes>();
        services.AddHealthChecks().AddCheck<MongoHealthCheck>(MongoMemoryDatabase.ConnectionName, tags: ["ready"]);
    }

    private static void AddSqliteStores(IServiceCollection services)
    {
        services.TryAddSingleton<SqliteMemoryDatabase>();
        services.TryAddSingleton<ITranscriptStore, SqliteTranscriptStore>();
        services.TryAddSingleton<IApprovalStore, SqliteApprovalStore>();
        services.TryAddSingleton<ISummaryStore, SqliteSummaryStore>();
        services.TryAddSingleton<IMemoryItemStore, SqliteMemoryItemStore>();
        services.TryAddSingleton<IKnowledgeStore, SqliteKnowledgeStore>();
        services.TryAddSingleton<IAuditStore, SqliteAuditStore>();
        services.TryAddSingleton<IArtifactStore, SqliteArtifactStore>();
    }

    public static void AddMemoryConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<ContextRequestedConsumer>();
        bus.AddConsumer<TranscriptConsumer>();
        bus.AddConsumer<RunGradedConsumer>();
        bus.AddConsumer<GetRunConsumer>();
        bus.AddConsumer<ListRunsConsumer>();
        bus.AddConsumer<GetRunTotalsConsumer>();
        bus.AddConsumer<RememberMemoryConsumer>();
        bus.AddConsumer<ListMemoriesConsumer>();
        bus.AddConsumer<ForgetMemoriesConsumer>();
        bus.AddConsumer<MemoryExtractionConsumer>();
        bus.AddConsumer<GetPendingApprovalsConsumer>();
        bus.AddConsumer<SearchKnowledgeConsumer>();
        bus.AddConsumer<AuditRecordedConsumer>();
        bus.AddConsumer<GetAuditTrailConsumer>();
        bus.AddConsumer<RunArtifactsKeptConsumer, RunArtifactsKeptConsumerDefinition>();
        bus.AddConsumer<GetArtifactsConsumer>();
        bus.AddConsumer<GetArtifactConsumer>();
    }
}
