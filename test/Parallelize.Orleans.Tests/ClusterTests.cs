namespace Parallelize.Orleans.Tests;

/// <summary>The tests that start a cluster run one at a time: they share the current scenario and the machine's two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterTests
{
    public const string Name = "Cluster";
}
