using Microsoft.Extensions.Configuration;

namespace Agentry.Agents;

/// The names an agent's model may use as its provider, read from configuration so that agent
/// definitions are checked at load (Agentry.Llm builds the providers themselves).
public static class ModelProviders
{
    /// The provider declared by the Llm:Endpoint shorthand.
    public const string Default = "default";

    /// The deterministic offline model, always there.
    public const string Offline = "offline";

    public const string Section = "Llm:Providers";

    public static ISet<string> Names(IConfiguration configuration)
    {
        var names = configuration.GetSection(Section).GetChildren().Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        names.Add(Offline);
        if (!string.IsNullOrWhiteSpace(configuration["Llm:Endpoint"]))
        {
            names.Add(Default);
        }

        return names;
    }
}
