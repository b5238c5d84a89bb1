namespace Parallelize.Orleans.Grains;

/// <summary>Where an executor grain runs: its silo, and the process that hosts it.</summary>
/// <param name="Silo">The silo's address.</param>
/// <param name="SiloName">The silo's name.</param>
/// <param name="ProcessId">The id of the silo's process.</param>
/// <param name="MachineName">The name of the silo's machine.</param>
[GenerateSerializer]
[Immutable]
internal sealed record ExecutorHost(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string SiloName,
    [property: Id(2)] int ProcessId,
    [property: Id(3)] string MachineName);
