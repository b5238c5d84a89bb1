namespace Parallelize.Core;

/// <summary>How an attempt of a call failed, which decides what it costs and whom it is blamed on.</summary>
internal enum FailureKind
{
    /// <summary>The executor threw for this call: an attempt, blamed on the input or the executor as the fault model decides.</summary>
    Threw,

    /// <summary>The call overran <see cref="ParallelizeOptions.CallTimeout"/>: like <see cref="Threw"/>, with a <see cref="TimeoutException"/>.</summary>
    TimedOut,

    /// <summary>The executor's process died while running this call: an attempt, blamed on the input.</summary>
    Crashed,

    /// <summary>The executor was lost (its process or node), or said so by throwing <see cref="ExecutorLostException"/>: not the input's fault, so no attempt is used; the executor is blamed and restarted.</summary>
    Lost,
}
