using System.Text.Json;
using Agentry.Contracts;
using Agentry.Agents;
using Agentry.Agents.Tools;
using Agentry.Tests.ToolExecutor;
using Agentry.Tools;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Agentry.Tests.Agents
{
    [TestFixture]
    public sealed class When_an_agent_definition_has_an_unclosed_flow_list
    {
        private const string Yaml = "instructions: Fine.\ntools: [calculator\nlimits:\n  max_steps: 3\n";

        [Test]
        public void Should_report_it_as_a_located_yaml_error()
        {
            var error = Assert.Throws<AgentDefinitionException>(() =>
                AgentDefinitionLoader.Parse("agents/broken.yaml", Yaml, ShippedTools.Catalog.Names.ToHashSet()));

            Assert.That(error!.Message, Does.StartWith("agents/broken.yaml:"));
            Assert.That(error.Problem, Does.StartWith("invalid YAML: "));
        }

        [Test]
        public void Should_still_report_the_other_bad_files_of_the_folder()
        {
            var folder = Directory.CreateTempSubdirectory("agentry-bug-").FullName;
            try
            {
                File.WriteAllText(Path.Combine(folder, "broken.yaml"), Yaml);
                File.WriteAllText(Path.Combine(folder, "typo.yaml"), "instructions: Fine.\ntool: [calculator]\n");

                var error = Assert.Throws<AgentCatalogException>(() => AgentCatalog.LoadDirectory(folder, ShippedTools.Catalog));

                Assert.That(error!.Problems.Select(p => Path.GetFileName(p.File)), Is.EqualTo<string[]>(["broken.yaml", "typo.yaml"]));
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }
}
