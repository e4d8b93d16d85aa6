using Agentry.Evaluation.Results;
using Agentry.Evaluation.Stores.Mongo;
using Agentry.Evaluation.Stores.Sqlite;
using Agentry.ServiceDefaults;
using Microsoft.Extensions.Configuration;
using MongoDB.Driver;

namespace Agentry.Evaluation.Stores;

/// The store of a configuration, as `agentry eval` writes and the Gateway reads: the deployment's
/// MongoDB when `ConnectionStrings:mongodb` is set, else the embedded SQLite file.
public static class EvalResultStores
{
    public static IEvalResultStore Open(IConfiguration configuration, IMongoClient? client = null)
    {
        if (StoreConnections.Mongo(configuration) is { } mongodb)
        {
            var url = MongoUrl.Create(mongodb);
            return new MongoEvalResultStore((client ?? new MongoClient(url)).GetDatabase(url.DatabaseName ?? StoreConnections.DefaultMongoDatabase));
        }

        return new SqliteEvalResultStore(StoreConnections.Sqlite(configuration));
    }
}
