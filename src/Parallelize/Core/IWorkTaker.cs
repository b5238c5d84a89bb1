namespace Parallelize.Core;

/// <summary>A worker as the <see cref="WorkQueue{TIn}"/> sees it: how to hand it a batch and how to wake it.</summary>
internal interface IWorkTaker<TIn>
{
    /// <summary>Gets the signal released once each time the worker is taken off the queue's idle stack.</summary>
    SemaphoreSlim Signal { get; }

    /// <summary>Makes the calls just copied into the worker's batch its current batch. Called by the queue under its lock.</summary>
    /// <param name="count">How many calls the batch holds.</param>
    void BeginBatch(int count);
}
