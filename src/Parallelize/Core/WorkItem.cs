namespace Parallelize.Core;

/// <summary>One call: an input, its place in call order, and its attempts so far.</summary>
/// <remarks>
/// Ownership: an item is owned by the <see cref="WorkQueue{TIn}"/> while queued. Taking it sets
/// <see cref="State"/> to <see cref="Running"/>; from then on exactly one party settles it by winning
/// <see cref="TryClaim"/>: the worker that ran it, or <c>Stop</c> aborting it after the finish timeout. The
/// winner alone may touch <see cref="Input"/>, <see cref="Attempts"/> and <see cref="Errors"/> and route the
/// item to its one destination; the loser drops it. This is what makes an input end in exactly one place.
/// </remarks>
internal sealed class WorkItem<TIn>
{
    internal const int Queued = 0;
    internal const int Running = 1;
    internal const int Claimed = 2;

    private int _state;

    public WorkItem(TIn input)
    {
        Input = input;
    }

    /// <summary>Gets the position of the call in call order (1-based): set by the queue, under its lock, when the call is accepted.</summary>
    public long Sequence { get; internal set; }

    /// <summary>Gets or sets a value indicating whether the queued item holds a place of a bounded queue. Guarded by the queue's lock.</summary>
    public bool HoldsPlace { get; set; }

    /// <summary>Gets or sets a value indicating whether the item holds one of the pool's result slots (bounded pools only). Only the owner touches it.</summary>
    public bool HoldsSlot { get; set; }

    /// <summary>Gets or sets the input; a retry may replace it. Only the owner touches it.</summary>
    public TIn Input { get; set; }

    /// <summary>Gets or sets how many attempts have been used. Only the owner touches it.</summary>
    public int Attempts { get; set; }

    /// <summary>Gets or sets the exception of each attempt. Only the owner touches it.</summary>
    public List<Exception>? Errors { get; set; }

    /// <summary>Gets the current state; for assertions and diagnostics.</summary>
    public int State => Volatile.Read(ref _state);

    /// <summary>Marks the item as started. Called by the queue under its lock.</summary>
    public void MarkRunning() => Volatile.Write(ref _state, Running);

    /// <summary>Marks the item as queued again. Called by its owner before requeueing it.</summary>
    public void MarkQueued() => Volatile.Write(ref _state, Queued);

    /// <summary>Takes ownership of a running item; exactly one caller wins.</summary>
    /// <returns><see langword="true"/> for the one caller that now owns the item.</returns>
    public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Running) == Running;

    /// <summary>Records one used attempt and its exception. Only the owner calls it.</summary>
    /// <param name="error">What went wrong.</param>
    public void RecordAttempt(Exception error)
    {
        Attempts++;
        (Errors ??= []).Add(error);
    }
}
