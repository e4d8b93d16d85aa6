using Agentry.Agents;
using Agentry.Memory;
using Agentry.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Agentry.Tests.Deploy;

/// docker-compose.yml, checked against the services' code and the Kubernetes base.
public sealed class When_services_run_on_docker_compose
{
    public static IEnumerable<string> Services => AgentryServices.Folders;

    private static Dictionary<string, string?> Environment(string folder) =>
        (Manifests.ComposeService(folder).At("environment") as Dictionary<object, object?> ?? [])
        .ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString());

    [TestCaseSource(nameof(Services))]
    public void Should_build_the_service_from_its_project_as_the_image_kubernetes_runs(string folder)
    {
        var service = Manifests.ComposeService(folder);
        Assert.That(service.Text("build.dockerfile"), Is.EqualTo(DockerImage.Path));
        Assert.That(service.Text("build.context"), Is.EqualTo("."));
        Assert.That(service.Text("build.args.SERVICE"), Is.EqualTo(folder), "the Dockerfile builds services/$SERVICE");

        var image = service.Text("image")!;
        // agentry/planner:${AGENTRY_TAG:-dev}: the tag is the overlays' business.
        Assert.That(image.Split(':')[0], Is.EqualTo(Manifests.Deployment(folder).Container().Text("image")));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_report_healthy_only_when_ready_and_start_after_the_broker_and_redis(string folder)
    {
        var service = Manifests.ComposeService(folder);
        var test = string.Join(" ", service.List("healthcheck.test"));
        Assert.That(test, Does.Contain("/health/ready").And.Contain($"/dev/tcp/127.0.0.1/{DockerImage.HttpPort}"));
        foreach (var dependency in new[] { "rabbitmq", "redis" })
        {
            Assert.That(service.Text($"depends_on.{dependency}.condition"), Is.EqualTo("service_healthy"), dependency);
            Assert.That(Manifests.Compose.Map("services").Map(dependency).At("healthcheck"), Is.Not.Null, $"{dependency} has no health check to wait for");
        }
    }

    [TestCaseSource(nameof(Services))]
    public async Task Should_select_rabbitmq_and_redis_through_the_connection_strings_the_code_reads(string folder)
    {
        var environment = Environment(folder);
        var configuration = When_services_run_on_kubernetes.Configuration(environment);
        Assert.That(RedisRegistration.HasRedis(configuration), Is.EqualTo(AgentryServices.UsesRedis(folder)),
            AgentryServices.UsesRedis(folder) ? $"{folder} would keep its state in memory" : $"{folder} does not read the connection string `redis`");

        // The transport AddAgentryBus chooses from this configuration, and where it points.
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(configuration);
        services.AddAgentryBus(configuration);
        await using var provider = services.BuildServiceProvider();
        var address = provider.GetRequiredService<IBusControl>().Address;
        Assert.That(address.Scheme, Is.EqualTo("rabbitmq"));
        Assert.That(Manifests.Compose.Map("services").ContainsKey(address.Host), $"the broker {address.Host} is not a compose service");
        if (configuration.GetConnectionString(RedisRegistration.ConnectionStringName) is { } redis)
        {
            var redisHost = redis.Split(',')[0].Split(':')[0];
            Assert.That(Manifests.Compose.Map("services").ContainsKey(redisHost), $"Redis {redisHost} is not a compose service");
        }
    }

    [TestCaseSource(nameof(Services))]
    public void Should_set_only_environment_variables_the_services_read(string folder)
    {
        var unknown = Environment(folder).Keys.Where(v => !AgentryServices.IsRead(v));
        Assert.That(unknown, Is.Empty, "no options class, connection string or library reads these");
    }

    [TestCaseSource(nameof(Services))]
    public void Should_mount_the_agents_where_the_service_looks_for_them(string folder)
    {
        var path = When_services_run_on_kubernetes.Bind<AgentsOptions>(Environment(folder), AgentsOptions.Section).Path;
        var volumes = Manifests.ComposeService(folder).List("volumes").Select(v => v!.ToString()!);
        Assert.That(volumes, Does.Contain($"./agents:{path}:ro"));
        Assert.That(Manifests.ComposeService(folder).Text("read_only"), Is.EqualTo("true"));
    }

    [TestCaseSource(nameof(Services))]
    public void Should_let_only_the_tool_executor_create_the_Sandbox_namespaces(string folder)
    {
        var options = Manifests.ComposeService(folder).List("security_opt").Select(o => o!.ToString()).ToList();
        if (folder == "ToolExecutor")
        {
            Assert.That(options, Is.EquivalentTo(new[] { "seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined" }));
            Assert.That(Environment(folder)["Tools__Sandbox__Probe"], Is.EqualTo("true"));
        }
        else
        {
            Assert.That(options, Is.Empty);
            Assert.That(Environment(folder)["Tools__Sandbox__Probe"], Is.EqualTo("false"));
        }

        Assert.That(Manifests.ComposeService(folder).List("cap_add"), Is.Empty);
        Assert.That(Manifests.ComposeService(folder).Text("privileged"), Is.Null);
    }

    [TestCaseSource(nameof(Services))]
    public void Should_use_the_same_environment_as_kubernetes(string folder)
    {
        var compose = Environment(folder);
        var kubernetes = Manifests.Deployment(folder).Container().Environment();
        // Kubernetes gives the Gateway its bearer-token settings from an optional Secret (envFrom).
        Assert.That(compose.Keys.Where(k => k != "OTEL_EXPORTER_OTLP_ENDPOINT" && k != "OPENAI_API_KEY" && !k.StartsWith("Gateway__Jwt__", StringComparison.Ordinal)).Order(StringComparer.Ordinal),
            Is.EqualTo(kubernetes.Keys.Where(k => k != "OTEL_EXPORTER_OTLP_ENDPOINT").Order(StringComparer.Ordinal)));
        foreach (var key in new[] { "Agents__Path", "OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_PROTOCOL", "ConnectionStrings__sqlite" })
        {
            Assert.That(compose.GetValueOrDefault(key), Is.EqualTo(kubernetes.GetValueOrDefault(key)), key);
        }
    }

    [Test]
    public async Task Should_point_memory_at_the_mongodb_service_and_wait_for_it()
    {
        var configuration = When_services_run_on_kubernetes.Configuration(Environment("Memory"));
        var services = new ServiceCollection();
        services.AddMemory(configuration);
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<ITranscriptStore>();
        Assert.That(store, Is.InstanceOf<MongoTranscriptStore>());
        var host = MongoDB.Driver.MongoUrl.Create(configuration.GetConnectionString(MongoMemoryDatabase.ConnectionName)).Server.Host;
        Assert.That(Manifests.Compose.Map("services").ContainsKey(host), $"MongoDB {host} is not a compose service");
        Assert.That(Manifests.ComposeService("Memory").Text("depends_on.mongodb.condition"), Is.EqualTo("service_healthy"));
    }

    [Test]
    public async Task Should_keep_memory_transcripts_on_a_named_volume()
    {
        var folder = await When_services_run_on_kubernetes.SqliteFolderAsync(Environment("Memory"));
        var volume = Manifests.ComposeService("Memory").List("volumes").Select(v => v!.ToString()!.Split(':')).SingleOrDefault(v => v[1] == folder);
        Assert.That(volume, Is.Not.Null, $"the SQLite folder {folder} is not a volume");
        Assert.That(Manifests.Compose.Map("volumes").ContainsKey(volume![0]), $"{volume[0]} is not a named volume");
    }

    [Test]
    public void Should_run_the_broker_the_stores_and_jaeger()
    {
        var services = Manifests.Compose.Map("services");
        Assert.That(services.Text("rabbitmq.image"), Is.EqualTo("rabbitmq:4-management"));
        Assert.That(services.List("rabbitmq.ports"), Is.SupersetOf(new[] { "5672:5672", "15672:15672" }));
        Assert.That(services.At("mongodb.healthcheck"), Is.Not.Null);
        Assert.That(services.List("jaeger.ports"), Is.SupersetOf(new[] { "16686:16686", "4317:4317", "4318:4318" }));
        Assert.That(services.List("gateway.ports"), Is.EqualTo(new[] { $"5080:{DockerImage.HttpPort}" }));

        var traces = new Uri(Environment("Planner")["OTEL_EXPORTER_OTLP_ENDPOINT"]!);
        Assert.That((traces.Host, traces.Port), Is.EqualTo(("jaeger", 4317)));
    }
}
