using Agentry.Contracts;
using MassTransit;
using MassTransit.Configuration;

namespace Agentry.ServiceDefaults.Versions;

/// Puts a contract's schema version (ContractVersions) in the header of every message of that type
/// the bus sends or publishes. MassTransit builds a message type's pipe once, at its first send, so
/// the version is looked up once per type and a send costs one header.
public sealed class ContractVersionStamp : ISendPipeSpecificationObserver, IPublishPipeSpecificationObserver
{
    public void MessageSpecificationCreated<T>(IMessageSendPipeSpecification<T> specification)
        where T : class
    {
        if (ContractVersions.IsContract(typeof(T)))
        {
            var version = ContractVersions.Of(typeof(T));
            specification.UseExecute(context => context.Headers.Set(ContractVersions.Header, version));
        }
    }

    public void MessageSpecificationCreated<T>(IMessagePublishPipeSpecification<T> specification)
        where T : class
    {
        if (ContractVersions.IsContract(typeof(T)))
        {
            var version = ContractVersions.Of(typeof(T));
            specification.UseExecute(context => context.Headers.Set(ContractVersions.Header, version));
        }
    }
}

/// Refuses, before its body is read into a message, a contract of a schema version this build does
/// not read. Without the header (an upstream system's raw publish) the message is read as the current
/// version. The check reads one header and compares two numbers: no JSON is parsed for it.
public sealed class ContractVersionCheck : IFilter<ConsumeContext>
{
    public Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        if (context.Headers.TryGetHeader(ContractVersions.Header, out var header) && ContractOf(context.SupportedMessageTypes) is { } name)
        {
            var reads = ContractVersions.Of(name);
            if (VersionOf(header) is not { } found || found != reads)
            {
                throw new UnreadableVersionException(
                    $"This {name} message (header {ContractVersions.Header}: {header}{(VersionOf(header) is null ? ", not a version number" : "")})",
                    runId: null,
                    VersionOf(header) ?? 0,
                    [reads],
                    isRunState: false);
            }
        }

        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("contractVersionCheck");

    private static string? ContractOf(IEnumerable<string> messageTypes)
    {
        foreach (var type in messageTypes)
        {
            if (type.StartsWith(ContractVersions.UrnPrefix, StringComparison.Ordinal))
            {
                return type[ContractVersions.UrnPrefix.Length..];
            }
        }

        return null;
    }

    // MassTransit hands the header back as it was sent (an int); an AMQP client may send a string or a long.
    private static int? VersionOf(object? header) => header switch
    {
        int version => version,
        long version when version is > 0 and <= int.MaxValue => (int)version,
        string text when int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) => version,
        byte[] bytes when int.TryParse(bytes, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) => version,
        _ => null,
    };
}
