namespace Agentry.Evaluation.Datasets;

/// A problem in a dataset file, located at file:line:column so its author can jump to it.
public sealed class DatasetException(string file, long line, long column, string problem)
    : Exception($"{file}:{line}:{column}: {problem}")
{
    public string File { get; } = file;
    public long Line { get; } = line;
    public long Column { get; } = column;
    public string Problem { get; } = problem;
}
