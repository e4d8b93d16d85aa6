using Agentry.Agents;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using Agentry.Tools;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Agentry.Tests.Deploy;

/// deploy/k8s/base, checked against the services' code: no cluster is needed.
public sealed class When_services_run_on_kubernetes
{
    public static IEnumerable<string> Services => AgentryServices.Folders;

    /// The services whose queues KEDA watches; the others scale on CPU with a plain HPA.
    private static readonly string[] ScaledOnQueues = ["Planner", "ToolExecutor"];

    [TestCaseSource(nameof(Services))]
    public void Should_run_each_service_in_a_deployment_behind_a_service_and_a_disruption_budget(string folder)
    {
        var name = AgentryServices.DeploymentName(folder);
        var deployment = Manifests.Deployment(folder);
        Assert.That(deployment.Map("spec.selector.matchLabels")["app.kubernetes.io/name"], Is.EqualTo(name));
        Assert.That(deployment.Map("spec.template.metadata.labels")["app.kubernetes.io/name"], Is.EqualTo(name), "the pods do not carry the label the selector matches");
        Assert.That(deployment.Container().Text("image"), Is.EqualTo($"agentry/{name}"), "the overlays set the tag; the base names the image as docker-compose builds it");

        var service = Manifests.KubernetesDocuments.OfKind("Service").Single(s => s.Name() == name);
        Assert.That(service.Map("spec.selector")["app.kubernetes.io/name"], Is.EqualTo(name));
        Assert.That(service.List("spec.ports").Select(p => p.Text("targetPort")), Is.EqualTo(new[] { "http" }));

        var budget = Manifests.KubernetesDocuments.OfKind("PodDisruptionBudget").Single(s => s.Name() == name);
        Assert.That(budget.Map("spec.selector.matchLabels")["app.kubernetes.io/name"], Is.EqualTo(name));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_probe_the_health_endpoints_on_the_port_the_service_listens_on(string folder)
    {
        var container = Manifests.Deployment(folder).Container();
        var port = container.List("ports").Single();
        Assert.That((port.Text("name"), port.Text("containerPort")), Is.EqualTo(("http", DockerImage.HttpPort)));
        Assert.That((container.Text("livenessProbe.httpGet.path"), container.Text("livenessProbe.httpGet.port")), Is.EqualTo(("/health/live", "http")));
        Assert.That((container.Text("readinessProbe.httpGet.path"), container.Text("readinessProbe.httpGet.port")), Is.EqualTo(("/health/ready", "http")));
        Assert.That(container.Text("startupProbe.httpGet.path"), Is.EqualTo("/health/live"));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_request_and_limit_cpu_and_memory(string folder)
    {
        var resources = Manifests.Deployment(folder).Container().Map("resources");
        foreach (var kind in new[] { "requests", "limits" })
        {
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.That(resources.Text($"{kind}.{resource}"), Is.Not.Null.And.Not.Empty, $"{kind}.{resource}");
            }
        }
    }

    [TestCaseSource(nameof(Services))]
    public void Should_run_as_non_root_on_a_read_only_file_system_with_no_capabilities(string folder)
    {
        var deployment = Manifests.Deployment(folder);
        var pod = deployment.Map("spec.template.spec");
        var container = deployment.Container();
        Assert.That(pod.Text("securityContext.runAsNonRoot"), Is.EqualTo("true"));
        Assert.That(pod.Text("securityContext.runAsUser"), Is.EqualTo(DockerImage.UserId), "the UID of the image's app user");
        Assert.That(container.Text("securityContext.readOnlyRootFilesystem"), Is.EqualTo("true"));
        Assert.That(container.Text("securityContext.allowPrivilegeEscalation"), Is.EqualTo("false"));
        Assert.That(container.List("securityContext.capabilities.drop"), Is.EqualTo(new[] { "ALL" }));
        Assert.That(MountedVolume(deployment, "/tmp")?.At("emptyDir"), Is.Not.Null, "/tmp is not a writable emptyDir");
    }

    [TestCaseSource(nameof(Services))]
    public void Should_let_only_the_tool_executor_create_the_Sandbox_namespaces(string folder)
    {
        // docs/sandbox.md#containers-and-kubernetes: what bubblewrap needs in a container, and nothing more.
        var deployment = Manifests.Deployment(folder);
        var pod = deployment.Map("spec.template.spec");
        var container = deployment.Container();
        var probe = container.Environment().GetValueOrDefault("Tools__Sandbox__Probe");
        Assert.That(container.List("securityContext.capabilities.add"), Is.Empty, "bubblewrap needs no capability");
        if (folder == "ToolExecutor")
        {
            Assert.That(pod.Text("securityContext.seccompProfile.type"), Is.EqualTo("Unconfined"), "the default profile refuses CLONE_NEWUSER");
            Assert.That(pod.Text("hostUsers"), Is.EqualTo("false"), "procMount Unmasked needs the pod's own user namespace");
            Assert.That(container.Text("securityContext.procMount"), Is.EqualTo("Unmasked"), "a fresh /proc for the sandbox's PID namespace");
            Assert.That(container.Text("securityContext.appArmorProfile.type"), Is.EqualTo("Unconfined"), "the default AppArmor profile denies mount");
            Assert.That(probe, Is.EqualTo("true"), "the service that runs code checks its pod");
        }
        else
        {
            Assert.That(pod.Text("securityContext.seccompProfile.type"), Is.EqualTo("RuntimeDefault"));
            Assert.That((pod.Text("hostUsers"), container.Text("securityContext.procMount"), container.Text("securityContext.appArmorProfile.type")), Is.EqualTo(((string?)null, (string?)null, (string?)null)));
            Assert.That(probe, Is.EqualTo("false"), "without the settings, a probing Planner would withhold run_python from every agent");
            Assert.That(When_services_run_on_kubernetes.Bind<SandboxOptions>(container.Environment(), SandboxOptions.Section).Probe, Is.False);
        }
    }

    [TestCaseSource(nameof(Services))]
    public void Should_let_messages_in_flight_finish_before_the_pod_is_killed(string folder)
    {
        var deployment = Manifests.Deployment(folder);
        var grace = int.Parse(deployment.Text("spec.template.spec.terminationGracePeriodSeconds")!, System.Globalization.CultureInfo.InvariantCulture);
        var preStop = deployment.Container().List("lifecycle.preStop.exec.command").Select(c => c!.ToString()).ToList();
        Assert.That(preStop, Has.Count.EqualTo(2).And.ItemAt(0).EqualTo("sleep"), "preStop waits for the endpoints to drop the pod");
        var delay = int.Parse(preStop[1]!, System.Globalization.CultureInfo.InvariantCulture);
        // The rest of the grace period is the service's own graceful shutdown.
        Assert.That(grace - delay, Is.GreaterThanOrEqualTo(30));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_have_exactly_one_autoscaler(string folder)
    {
        var name = AgentryServices.DeploymentName(folder);
        var hpas = Manifests.KubernetesDocuments.OfKind("HorizontalPodAutoscaler").Where(h => h.Text("spec.scaleTargetRef.name") == name).ToList();
        var scaledObjects = Manifests.KubernetesDocuments.OfKind("ScaledObject").Where(s => s.Text("spec.scaleTargetRef.name") == name).ToList();

        // KEDA makes its own HPA for a ScaledObject: a second one on the same Deployment would fight it.
        Assert.That(hpas.Count + scaledObjects.Count, Is.EqualTo(1), $"{name}: {hpas.Count} HPA(s) and {scaledObjects.Count} ScaledObject(s)");
        if (ScaledOnQueues.Contains(folder))
        {
            Assert.That(scaledObjects, Has.Count.EqualTo(1), $"{name} scales on its queues, with KEDA");
            Assert.That(scaledObjects[0].List("spec.triggers").Select(t => t.Text("type")), Does.Contain("cpu"), "KEDA's HPA must cover CPU as a plain HPA would");
        }
        else
        {
            Assert.That(hpas.Single().Text("spec.scaleTargetRef.kind"), Is.EqualTo("Deployment"));
        }
    }

    [TestCaseSource(nameof(ScaledOnQueues))]
    public async Task Should_scale_on_every_queue_the_service_consumes(string folder)
    {
        var scaledObject = Manifests.KubernetesDocuments.OfKind("ScaledObject").Single(s => s.Text("spec.scaleTargetRef.name") == AgentryServices.DeploymentName(folder));
        var watched = scaledObject.List("spec.triggers").Where(t => t.Text("type") == "rabbitmq").Select(t => t.Text("metadata.queueName")).ToHashSet();

        Assert.That(watched, Is.EquivalentTo(await AgentryServices.QueuesAsync(folder)), "the queue names MassTransit gives this service's consumers");
        Assert.That(scaledObject.List("spec.triggers").Where(t => t.Text("type") == "rabbitmq").Select(t => t.Text("authenticationRef.name")).Distinct(),
            Is.EqualTo(Manifests.KubernetesDocuments.OfKind("TriggerAuthentication").Select(t => t.Name())));
    }

    [Test]
    public void Should_keep_memory_on_one_replica_while_it_keeps_sqlite()
    {
        var hpa = Manifests.KubernetesDocuments.OfKind("HorizontalPodAutoscaler").Single(h => h.Name() == "memory");
        Assert.That(hpa.Text("spec.maxReplicas"), Is.EqualTo("1"), "several Memory pods would each have a SQLite file of their own");
        Assert.That(Manifests.Deployment("Memory").Text("spec.strategy.type"), Is.EqualTo("Recreate"), "a ReadWriteOnce volume cannot be mounted by the old and the new pod at once");
    }

    [Test]
    public void Should_read_memorys_mongodb_from_the_secret_only_where_it_has_one()
    {
        // Memory keeps its data there, the Gateway its API keys; without it, SQLite.
        foreach (var service in new[] { "Memory", "Gateway" })
        {
            var mongodb = Manifests.Deployment(service).Container().List("env").Single(v => v.Text("name") == "ConnectionStrings__mongodb");
            Assert.That((mongodb.Text("valueFrom.secretKeyRef.name"), mongodb.Text("valueFrom.secretKeyRef.key"), mongodb.Text("valueFrom.secretKeyRef.optional")),
                Is.EqualTo(("agentry-connections", MongoMemoryDatabase.ConnectionName, "true")), service);
        }

        foreach (var other in Services.Where(s => s is not ("Memory" or "Gateway")))
        {
            Assert.That(Manifests.Deployment(other).Container().Environment().ContainsKey("ConnectionStrings__mongodb"), Is.False, $"{other} does not read `mongodb`");
        }
    }

    [Test]
    public async Task Should_keep_memory_transcripts_on_a_persistent_volume()
    {
        var deployment = Manifests.Deployment("Memory");
        var folder = await SqliteFolderAsync(deployment.Container().Environment());

        var volume = MountedVolume(deployment, folder);
        Assert.That(volume, Is.Not.Null, $"the SQLite folder {folder} is not a mounted volume (the root file system is read-only)");
        var claim = volume.Text("persistentVolumeClaim.claimName");
        Assert.That(Manifests.KubernetesDocuments.OfKind("PersistentVolumeClaim").Select(c => c.Name()), Does.Contain(claim));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_mount_the_agents_where_the_service_looks_for_them(string folder)
    {
        var deployment = Manifests.Deployment(folder);
        var path = Bind<AgentsOptions>(deployment.Container().Environment(), AgentsOptions.Section).Path;

        Assert.That(MountedVolume(deployment, path)?.Text("configMap.name"), Is.EqualTo("agentry-agents"), $"Agents:Path is {path}");
    }

    [TestCaseSource(nameof(Services))]
    public void Should_set_only_environment_variables_the_services_read(string folder)
    {
        var unknown = Manifests.Deployment(folder).Container().Environment().Keys.Where(v => !AgentryServices.IsRead(v));
        Assert.That(unknown, Is.Empty, "no options class, connection string or library reads these");
    }

    [TestCaseSource(nameof(Services))]
    public void Should_connect_to_rabbitmq_and_where_the_service_uses_it_to_redis_from_a_secret(string folder)
    {
        var env = Manifests.Deployment(folder).Container().List("env");
        Assert.That(env.SingleOrDefault(v => v.Text("name") == "ConnectionStrings__rabbitmq").Text("valueFrom.secretKeyRef.name"), Is.EqualTo("agentry-connections"));
        var redis = env.SingleOrDefault(v => v.Text("name") == "ConnectionStrings__redis");
        if (AgentryServices.UsesRedis(folder))
        {
            Assert.That(redis.Text("valueFrom.secretKeyRef.name"), Is.EqualTo("agentry-connections"), "without Redis this service keeps its state in memory and cannot scale out");
        }
        else
        {
            Assert.That(redis, Is.Null, "this service does not read the connection string `redis`");
        }

        Assert.That(Manifests.KubernetesDocuments.OfKind("TriggerAuthentication").Single().List("spec.secretTargetRef").Select(r => (r.Text("name"), r.Text("key"))),
            Is.EqualTo(new[] { ("agentry-connections", "rabbitmq") }), "KEDA reads the same AMQP URL");
    }

    [Test]
    public void Should_isolate_the_services_with_network_policies()
    {
        var policies = Manifests.KubernetesDocuments.OfKind("NetworkPolicy").ToList();
        var denyAll = policies.Single(p => p.Name() == "agentry-default-deny");
        Assert.That(denyAll.List("spec.policyTypes"), Is.EquivalentTo(new[] { "Ingress", "Egress" }));
        Assert.That(denyAll.At("spec.ingress") ?? denyAll.At("spec.egress"), Is.Null, "the default policy allows nothing");

        var egressPorts = policies.SelectMany(p => p.List("spec.egress")).SelectMany(e => e.List("ports")).Select(p => p.Text("port")).ToHashSet();
        var connections = new Dictionary<string, string>
        {
            ["RabbitMQ"] = new Uri("amqp://rabbitmq:5672/").Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Redis"] = "6379",
            ["OTLP"] = new Uri(Manifests.GeneratedConfigMap(Manifests.Kustomization(Manifests.KubernetesBase), "agentry-config")["OTEL_EXPORTER_OTLP_ENDPOINT"]).Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DNS"] = "53",
        };
        foreach (var (what, port) in connections)
        {
            Assert.That(egressPorts, Does.Contain(port), $"{what} ({port}) cannot be reached");
        }
    }

    private static Dictionary<object, object?>? MountedVolume(Dictionary<object, object?> deployment, string path)
    {
        var mount = deployment.Container().List("volumeMounts").FirstOrDefault(m => m.Text("mountPath") == path);
        return mount is null
            ? null
            : deployment.List("spec.template.spec.volumes").OfType<Dictionary<object, object?>>().SingleOrDefault(v => v.Text("name") == mount.Text("name"));
    }

    /// The folder the Memory service would put its SQLite file in, given this environment.
    internal static async Task<string> SqliteFolderAsync(IReadOnlyDictionary<string, string?> environment)
    {
        var configuration = Configuration(environment);
        var services = new ServiceCollection();
        services.AddMemory(configuration);
        await using var provider = services.BuildServiceProvider();
        var dataSource = new SqliteConnectionStringBuilder(provider.GetRequiredService<IOptions<MemoryOptions>>().Value.SqliteConnectionString).DataSource;
        return Path.GetDirectoryName(dataSource)!;
    }

    internal static T Bind<T>(IReadOnlyDictionary<string, string?> environment, string section)
        where T : new() =>
        Configuration(environment).GetSection(section).Get<T>() ?? new T();

    /// The configuration a service builds from these environment variables.
    internal static IConfiguration Configuration(IReadOnlyDictionary<string, string?> environment) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Where(e => e.Value is not null).Select(e => KeyValuePair.Create(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)))
            .Build();
}
