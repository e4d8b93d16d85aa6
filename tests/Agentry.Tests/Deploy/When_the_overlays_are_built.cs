namespace Agentry.Tests.Deploy;

/// The overlays rendered by kustomize, as `kubectl apply -k` would send them.
public sealed class When_the_overlays_are_built
{
    public static readonly string[] Overlays = ["dev", "prod"];

    [TestCaseSource(nameof(Overlays))]
    public async Task Should_render_every_service_with_a_tagged_image_in_one_namespace(string overlay)
    {
        var documents = await BuildAsync(overlay);
        var namespaces = documents.Where(d => d.Kind() != "Namespace").Select(d => d.Text("metadata.namespace")).Distinct().ToList();
        Assert.That(namespaces, Has.Count.EqualTo(1), string.Join(", ", namespaces));
        Assert.That(documents.OfKind("Namespace").Select(d => d.Name()), Is.EqualTo(namespaces));

        foreach (var folder in AgentryServices.Folders)
        {
            var name = AgentryServices.DeploymentName(folder);
            var deployment = documents.OfKind("Deployment").SingleOrDefault(d => d.Name() == name);
            Assert.That(deployment, Is.Not.Null, $"{overlay} has no Deployment {name}");
            Assert.That(deployment!.Container().Text("image"), Does.Match($"^(.+/)?agentry/{name}:[^:]+$"), "an image with a tag");
        }
    }

    [TestCaseSource(nameof(Overlays))]
    public async Task Should_point_every_reference_at_something_rendered_or_created_by_the_operator(string overlay)
    {
        var documents = await BuildAsync(overlay);
        var configMaps = documents.OfKind("ConfigMap").Select(d => d.Name()).ToHashSet();
        var secrets = documents.OfKind("Secret").Select(d => d.Name()).ToHashSet();
        var claims = documents.OfKind("PersistentVolumeClaim").Select(d => d.Name()).ToHashSet();
        // Production's Secrets hold real credentials and are created by the operator (docs/operations.md).
        var operatorSecrets = overlay == "prod" ? new[] { "agentry-connections", "agentry-llm-credentials" } : [];

        foreach (var deployment in documents.OfKind("Deployment"))
        {
            var pod = deployment.Map("spec.template.spec");
            foreach (var volume in pod.List("volumes"))
            {
                if (volume.Text("configMap.name") is { } configMap)
                {
                    Assert.That(configMaps, Does.Contain(configMap), $"{deployment.Name()} mounts a ConfigMap that is not rendered");
                }

                if (volume.Text("persistentVolumeClaim.claimName") is { } claim)
                {
                    Assert.That(claims, Does.Contain(claim));
                }
            }

            foreach (var container in pod.List("containers"))
            {
                foreach (var source in container.List("envFrom"))
                {
                    if (source.Text("secretRef.name") is { } secret)
                    {
                        Assert.That(source.Text("secretRef.optional") == "true" || secrets.Concat(operatorSecrets).Contains(secret), $"{deployment.Name()}: envFrom {secret}");
                    }
                    else
                    {
                        Assert.That(configMaps, Does.Contain(source.Text("configMapRef.name")));
                    }
                }

                foreach (var variable in container.List("env"))
                {
                    if (variable.Text("valueFrom.configMapKeyRef.name") is { } configMap && variable.Text("valueFrom.configMapKeyRef.optional") != "true")
                    {
                        Assert.That(configMaps, Does.Contain(configMap));
                    }

                    if (variable.Text("valueFrom.secretKeyRef.name") is { } secret && variable.Text("valueFrom.secretKeyRef.optional") != "true")
                    {
                        Assert.That(secrets.Concat(operatorSecrets), Does.Contain(secret), $"{deployment.Name()}: {variable.Text("name")}");
                    }
                }
            }
        }

        foreach (var authentication in documents.OfKind("TriggerAuthentication"))
        {
            foreach (var reference in authentication.List("spec.secretTargetRef"))
            {
                Assert.That(secrets.Concat(operatorSecrets), Does.Contain(reference.Text("name")), "KEDA's secret (kustomize does not rename this reference)");
            }
        }
    }

    [TestCaseSource(nameof(Overlays))]
    public async Task Should_scale_each_deployment_with_one_autoscaler(string overlay)
    {
        var documents = await BuildAsync(overlay);
        var deployments = documents.OfKind("Deployment").Where(d => d.Map("metadata.labels").GetValueOrDefault("app.kubernetes.io/part-of") as string == "agentry").Select(d => d.Name()).ToList();
        var targets = documents.OfKind("HorizontalPodAutoscaler").Concat(documents.OfKind("ScaledObject")).Select(a => a.Text("spec.scaleTargetRef.name")).ToList();

        Assert.That(targets, Is.EquivalentTo(deployments), "one HPA or one ScaledObject (never both) per Deployment");
        foreach (var scaledObject in documents.OfKind("ScaledObject"))
        {
            Assert.That(int.Parse(scaledObject.Text("spec.minReplicaCount")!, System.Globalization.CultureInfo.InvariantCulture),
                Is.LessThanOrEqualTo(int.Parse(scaledObject.Text("spec.maxReplicaCount")!, System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    private static async Task<IReadOnlyList<Dictionary<object, object?>>> BuildAsync(string overlay)
    {
        var folder = $"deploy/k8s/overlays/{overlay}";
        if (!Kustomize.IsAvailable)
        {
            var message = $"NOT RUN: the overlay {folder} was not built, because neither kustomize (v4 or later) nor a kubectl that bundles it is installed. "
                + "Run ./test.sh (scripts/kustomize.sh installs kubectl where it can) or install kustomize.";
            TestContext.Error.WriteLine(message);
            TestContext.Progress.WriteLine(message);
            Assert.Ignore(message);
        }

        TestContext.Progress.WriteLine($"Building {folder} with {Kustomize.Describe}");
        return RepositoryFiles.Documents(await Kustomize.BuildAsync(folder), folder);
    }
}
