using Agentry.Contracts;
using MassTransit;

namespace Agentry.Memory;

public sealed class RunArtifactsKeptConsumer(IArtifactStore store) : IConsumer<RunArtifactsKept>
{
    public Task Consume(ConsumeContext<RunArtifactsKept> context) => store.KeepAsync(context.Message, context.CancellationToken);
}

/// A few deliveries at a time: each carries up to Tools:Sandbox:MaxArtifactsBytes of files (4 MiB
/// by default), and the endpoint's usual prefetch would hold dozens of them in memory at once.
public sealed class RunArtifactsKeptConsumerDefinition : ConsumerDefinition<RunArtifactsKeptConsumer>
{
    public RunArtifactsKeptConsumerDefinition()
    {
        ConcurrentMessageLimit = 2;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RunArtifactsKeptConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.PrefetchCount = 4;
}

public sealed class GetArtifactsConsumer(IArtifactStore store) : IConsumer<GetArtifacts>
{
    public async Task Consume(ConsumeContext<GetArtifacts> context) =>
        await context.RespondAsync(await store.ListAsync(context.Message.TenantId, context.Message.RunId, context.CancellationToken));
}

public sealed class GetArtifactConsumer(IArtifactStore store) : IConsumer<GetArtifact>
{
    public async Task Consume(ConsumeContext<GetArtifact> context)
    {
        var (tenant, run, name) = (context.Message.TenantId, context.Message.RunId, context.Message.Name);
        await context.RespondAsync(await store.GetAsync(tenant, run, name, context.CancellationToken) is { } found
            ? new ArtifactContent(run, name, true, found.Info, found.Content)
            : new ArtifactContent(run, name, false));
    }
}
