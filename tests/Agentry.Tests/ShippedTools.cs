using Agentry.Agents.Tools;
using Agentry.Samples;
using Agentry.Tools;
using Microsoft.Extensions.Configuration;

namespace Agentry.Tests;

/// The tools the shipped hosts offer: the built-in packs and the sample systems' packs, which the
/// repository's agents/ folder names.
public static class ShippedTools
{
    public static IReadOnlyList<ToolPack> Packs { get; } = [.. BuiltInTools.Packs, .. SampleTools.Packs];

    public static ToolCatalog Catalog { get; } = ToolCatalog.Of(Packs, null);

    public static ToolCatalog CatalogFor(IConfiguration? configuration) => ToolCatalog.Of(Packs, configuration);
}
