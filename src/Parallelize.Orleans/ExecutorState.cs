namespace Parallelize.Orleans;

/// <summary>Where one executor of a cluster pool is in its life.</summary>
public enum ExecutorState
{
    /// <summary>Being created on a silo.</summary>
    Starting,

    /// <summary>Created on <see cref="ExecutorPlacement.Node"/>, running calls or ready to.</summary>
    Running,

    /// <summary>Its silo was lost; the pool re-creates it elsewhere.</summary>
    Lost,

    /// <summary>Stopped (the pool re-created it, retired it, or stopped).</summary>
    Stopped,
}
