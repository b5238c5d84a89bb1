namespace Parallelize.Orleans;

/// <summary>Where one executor of a cluster pool runs, as last known by the client.</summary>
/// <param name="Slot">The executor's index in the pool.</param>
/// <param name="Generation">How many times this executor has been created (1 for the first); each re-creation is a new grain.</param>
/// <param name="Node">The address of its silo; <see langword="null"/> before it was first placed.</param>
/// <param name="SiloName">The name of its silo.</param>
/// <param name="ProcessId">The id of its silo's process (0 when unknown).</param>
/// <param name="State">Where it is in its life.</param>
/// <param name="Calls">Calls it has run, in every generation.</param>
public sealed record ExecutorPlacement(int Slot, long Generation, string? Node, string? SiloName, int ProcessId, ExecutorState State, long Calls);
