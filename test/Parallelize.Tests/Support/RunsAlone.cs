namespace Parallelize.Tests.Support;

/// <summary>
/// The tests that must have the process to themselves: one starves the .NET thread pool on purpose, the stress test
/// measures the pool rather than the thread pool other tests keep busy. xUnit runs them after the parallel ones, one at
/// a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "runs alone";
}
