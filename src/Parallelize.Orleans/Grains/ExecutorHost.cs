namespace Parallelize.Orleans.Grains;

/// <summary>Where an executor grain runs: its silo, the process that hosts it, and which activation it is.</summary>
/// <param name="Silo">The silo's address.</param>
/// <param name="SiloName">The silo's name.</param>
/// <param name="ProcessId">The id of the silo's process.</param>
/// <param name="MachineName">The name of the silo's machine.</param>
/// <param name="Activation">The grain's activation: a grain re-activated elsewhere (its silo died) has another.</param>
[GenerateSerializer]
[Immutable]
internal sealed record ExecutorHost(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string SiloName,
    [property: Id(2)] int ProcessId,
    [property: Id(3)] string MachineName,
    [property: Id(4)] string Activation);
