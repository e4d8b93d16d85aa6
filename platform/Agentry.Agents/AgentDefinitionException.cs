namespace Agentry.Agents;

/// A problem in an agent definition, located at file:line:column so the author can jump to it.
public sealed class AgentDefinitionException : Exception
{
    public AgentDefinitionException(string file, long line, long column, string problem)
        : base($"{file}:{line}:{column}: {problem}")
    {
        File = file;
        Line = line;
        Column = column;
        Problem = problem;
    }

    public string File { get; }
    public long Line { get; }
    public long Column { get; }
    public string Problem { get; }
}

/// One or more agent definitions could not be loaded; the message lists every problem.
public sealed class AgentCatalogException(string directory, IReadOnlyList<AgentDefinitionException> problems)
    : Exception($"The agent definitions in {directory} have {problems.Count} problem(s):{Environment.NewLine}"
        + string.Join(Environment.NewLine, problems.Select(p => "  " + p.Message)))
{
    public IReadOnlyList<AgentDefinitionException> Problems { get; } = problems;
}
