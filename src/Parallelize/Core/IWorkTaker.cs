namespace Parallelize.Core;

/// <summary>A worker as the <see cref="WorkQueue{TIn}"/> sees it: where to publish the item it takes and how to wake it.</summary>
internal interface IWorkTaker<TIn>
{
    /// <summary>Gets or sets the item the worker is running. Written by the queue under its lock; read by <c>Stop</c>.</summary>
    WorkItem<TIn>? Current { get; set; }

    /// <summary>Gets the signal released once each time the worker is taken off the queue's idle stack.</summary>
    SemaphoreSlim Signal { get; }
}
