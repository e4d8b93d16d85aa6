using Agentry.Agents;
using Agentry.Agents.Tools;
using Microsoft.Extensions.Configuration;

namespace Agentry.Tests.Agents;

/// model: { provider, name, temperature, cache, fallbacks } in an agent definition.
public sealed class When_an_agent_chooses_its_models
{
    private static readonly HashSet<string> KnownTools = ShippedTools.Catalog.Names.ToHashSet();
    private static readonly HashSet<string> Providers = ["offline", "openai", "local"];

    private static AgentDefinition Parse(string yaml) => AgentDefinitionLoader.Parse("agents/picky.yaml", yaml, KnownTools, Providers);

    [Test]
    public void Should_read_the_provider_the_settings_and_the_fallbacks()
    {
        var agent = Parse("""
            instructions: Work.
            model:
              provider: openai
              name: gpt-4o-mini
              temperature: 0.2
              cache: true
              fallbacks:
                - { provider: local, name: llama3.1 }
                - { name: gpt-4o }
            """);

        Assert.That(agent.Model.Provider, Is.EqualTo("openai"));
        Assert.That(agent.Model.Name, Is.EqualTo("gpt-4o-mini"));
        Assert.That(agent.Model.Temperature, Is.EqualTo(0.2));
        Assert.That(agent.Model.Cache, Is.True);
        Assert.That(agent.Model.FallbackModels, Is.EqualTo(new[] { new FallbackModel("local", "llama3.1"), new FallbackModel(null, "gpt-4o") }));
    }

    [Test]
    public void Should_keep_the_short_form_of_a_bare_model_name()
    {
        var agent = Parse("""
            instructions: Work.
            model: gpt-4o
            """);

        Assert.That(agent.Model, Is.EqualTo(new ModelChoice("gpt-4o")));
        Assert.That(agent.Model.FallbackModels, Is.Empty);
    }

    [Test]
    public void Should_name_the_file_and_line_of_an_unknown_provider()
    {
        var error = Assert.Throws<AgentDefinitionException>(() => Parse("""
            instructions: Work.
            model:
              name: gpt-4o
              fallbacks:
                - { provider: anthropic, name: claude }
            """));

        Assert.That(error!.Message, Is.EqualTo(
            "agents/picky.yaml:5:19: unknown model provider 'anthropic'. Configured providers: local, offline, openai. Declare it under Llm:Providers:anthropic (Kind, Endpoint, ApiKeyEnv)."));
    }

    [Test]
    public void Should_refuse_a_temperature_out_of_range_and_a_cache_that_is_not_a_boolean()
    {
        var temperature = Assert.Throws<AgentDefinitionException>(() => Parse("""
            instructions: Work.
            model: { temperature: 3 }
            """));
        var cache = Assert.Throws<AgentDefinitionException>(() => Parse("""
            instructions: Work.
            model: { cache: sometimes }
            """));

        Assert.That(temperature!.Message, Is.EqualTo("agents/picky.yaml:2:23: model.temperature must be a number from 0 to 2, not '3'."));
        Assert.That(cache!.Message, Is.EqualTo("agents/picky.yaml:2:17: model.cache must be true or false, not 'sometimes'."));
    }

    [Test]
    public void Should_know_the_providers_the_configuration_declares()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Llm:Endpoint"] = "http://localhost:11434/v1",
            ["Llm:Providers:azure:Kind"] = "azure-openai",
        }).Build();

        Assert.That(ModelProviders.Names(configuration).Order(), Is.EqualTo(new[] { "azure", "default", "offline" }));
    }
}
