namespace Parallelize.Core;

/// <summary>A runner as the <see cref="WorkQueue{TIn}"/> sees it: who it is, how to hand it a lease, and how to wake it.</summary>
internal interface IWorkTaker<TIn>
{
    /// <summary>Gets the index of the runner's executor, which a retry avoids after failing on it.</summary>
    int Index { get; }

    /// <summary>
    /// Gets a value indicating whether the runner, once woken, resumes on a thread-pool thread (an asynchronous executor,
    /// a slot elsewhere) rather than on a thread of its own: a starved thread pool can hold it back.
    /// </summary>
    bool RunsOnThreadPool { get; }

    /// <summary>Gets the signal released once each time the runner is taken off the queue's idle stack.</summary>
    SemaphoreSlim Signal { get; }

    /// <summary>Makes the calls just copied into the runner's lease its current lease. Called by the queue under its lock: touches only the lease's own fields.</summary>
    /// <param name="count">How many calls the lease holds.</param>
    /// <param name="probe">The lease is the one call the outage detector lets through to see whether the outage is over.</param>
    void BeginBatch(int count, bool probe);
}
