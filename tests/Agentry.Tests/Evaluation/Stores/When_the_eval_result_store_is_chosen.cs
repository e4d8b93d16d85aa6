using Agentry.Evaluation.Stores;
using Agentry.Evaluation.Stores.Mongo;
using Agentry.Evaluation.Stores.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Agentry.Tests.Evaluation.Stores;

/// `agentry eval` and the Gateway open the same store from the same configuration: the deployment's
/// MongoDB when `mongodb` is set, else the SQLite file; messages name where, never a password.
public sealed class When_the_eval_result_store_is_chosen
{
    private static IConfiguration Configuration(params (string Key, string Value)[] entries) =>
        new ConfigurationBuilder().AddInMemoryCollection(entries.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value))).Build();

    [Test]
    public void Should_keep_eval_runs_in_the_deployments_mongodb_when_it_has_one()
    {
        var store = EvalResultStores.Open(Configuration(("ConnectionStrings:mongodb", "mongodb://agentry:s3cret-pw@mongo.internal:27017/evals")));

        Assert.That(store, Is.InstanceOf<MongoEvalResultStore>());
        Assert.That(store.Location, Is.EqualTo("MongoDB database evals at mongo.internal:27017"));
        Assert.That(EvalResultStores.Open(Configuration(("ConnectionStrings:mongodb", "mongodb://mongo.internal:27017"))).Location, Does.StartWith("MongoDB database agentry at"));
    }

    [Test]
    public void Should_keep_them_in_the_sqlite_file_otherwise()
    {
        using var folder = new TempFolder();

        var store = EvalResultStores.Open(Configuration(("ConnectionStrings:sqlite", folder.SqliteConnectionString)));

        Assert.That(store, Is.InstanceOf<SqliteEvalResultStore>());
        Assert.That(store.Location, Does.StartWith(folder.Path));
    }
}
