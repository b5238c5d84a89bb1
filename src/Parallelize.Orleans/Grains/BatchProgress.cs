namespace Parallelize.Orleans.Grains;

/// <summary>What an executor grain knows of a batch, when asked by <see cref="IExecutorGrain{TIn, TOut}.ProbeAsync"/>.</summary>
[GenerateSerializer]
internal enum BatchProgress
{
    /// <summary>The batch is running.</summary>
    Running,

    /// <summary>The batch has ended; its reply comes with the answer.</summary>
    Done,

    /// <summary>The batch never arrived; from now on it will not run if it does arrive (it is fenced off).</summary>
    NotReceived,
}
