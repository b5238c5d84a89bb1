namespace Parallelize.Orleans.Tests.Support;

/// <summary>What the test executors return: the input, and the silo that ran it.</summary>
[GenerateSerializer]
[Immutable]
public sealed record Echo([property: Id(0)] int Input, [property: Id(1)] string Silo);
