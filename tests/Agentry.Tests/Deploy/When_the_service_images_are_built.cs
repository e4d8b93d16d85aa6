namespace Agentry.Tests.Deploy;

/// No Docker engine is needed: the Dockerfile is checked against the projects it builds.
public sealed class When_the_service_images_are_built
{
    public static IEnumerable<string> Services => AgentryServices.Folders;

    [TestCaseSource(nameof(Services))]
    public void Should_copy_every_project_the_service_needs_before_restoring(string folder)
    {
        var project = AgentryServices.ProjectPath(folder);
        Assert.That(File.Exists(RepositoryFiles.PathOf(project)), $"{project} does not exist: the Dockerfile builds services/$SERVICE/Agentry.$SERVICE.csproj");
        var copied = DockerImage.CopiedSources;
        // Only the project files are copied before `dotnet restore`, so that layer survives code changes.
        foreach (var needed in DockerImage.ProjectClosure(project))
        {
            Assert.That(copied, Does.Contain(needed), $"{DockerImage.Path} does not copy {needed}, which {project} references");
        }

        Assert.That(copied, Is.SupersetOf(new[] { "global.json", "Directory.Build.props", "Directory.Packages.props" }));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_start_the_assembly_the_project_builds(string folder)
    {
        // The Dockerfile renames the apphost Agentry.$SERVICE: the project must not rename its assembly.
        Assert.That(DockerImage.AssemblyName(AgentryServices.ProjectPath(folder)), Is.Null.Or.EqualTo($"Agentry.{folder}"));
        Assert.That(DockerImage.Text, Does.Contain("mv \"/app/Agentry.${SERVICE}\" /app/agentry-service").And.Contain("ENTRYPOINT [\"/app/agentry-service\"]"));
    }

    [Test]
    public void Should_run_as_the_non_root_user_on_port_8080()
    {
        Assert.That(DockerImage.Text, Does.Contain("USER $APP_UID"));
        Assert.That(DockerImage.HttpPort, Is.EqualTo("8080"), "the .NET images' default, which the probes and compose health checks use");
    }

    [Test]
    public void Should_not_leave_out_of_the_build_context_what_the_image_copies()
    {
        var ignored = RepositoryFiles.Read(".dockerignore").Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        foreach (var source in DockerImage.CopiedSources)
        {
            var top = source.Split('/')[0];
            Assert.That(ignored, Does.Not.Contain(top + "/").And.Not.Contain(top), $".dockerignore leaves out {source}, which the Dockerfile copies");
        }
    }
}
