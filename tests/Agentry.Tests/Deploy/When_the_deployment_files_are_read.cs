namespace Agentry.Tests.Deploy;

public sealed class When_the_deployment_files_are_read
{
    public static IEnumerable<string> Files =>
        Directory.EnumerateFiles(RepositoryFiles.PathOf("deploy"), "*.yaml", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(RepositoryFiles.Root, path).Replace('\\', '/'))
            .Append("docker-compose.yml")
            .Append("agents/Kustomization")
            .Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(Files))]
    public void Should_parse_as_yaml_with_a_kind_and_a_name_for_every_kubernetes_object(string file)
    {
        var documents = RepositoryFiles.DocumentsOf(file);
        Assert.That(documents, Is.Not.Empty);
        if (file.StartsWith("deploy/k8s/", StringComparison.Ordinal) && !file.EndsWith("kustomization.yaml", StringComparison.Ordinal))
        {
            foreach (var document in documents)
            {
                Assert.That(new[] { document.Text("apiVersion"), document.Kind(), document.Name() }, Has.None.Null.And.None.Empty, $"{file}: an object without apiVersion, kind or metadata.name");
            }
        }
    }

    [Test]
    public void Should_put_every_agent_definition_in_the_agents_config_map()
    {
        var agents = Directory.EnumerateFiles(RepositoryFiles.PathOf("agents"))
            .Select(Path.GetFileName)
            .Where(name => name!.EndsWith(".yaml", StringComparison.Ordinal) || name.EndsWith(".yml", StringComparison.Ordinal));
        var generator = RepositoryFiles.DocumentsOf("agents/Kustomization").Single().List("configMapGenerator").Single();

        Assert.That(generator.Text("name"), Is.EqualTo("agentry-agents"));
        Assert.That(generator.List("files"), Is.EquivalentTo(agents), "kustomize takes no wildcard: list every agents/*.yaml in agents/Kustomization");
        Assert.That(Manifests.Kustomization(Manifests.KubernetesBase).List("resources"), Does.Contain("../../../agents"));
    }
}
