namespace Parallelize.Orleans.Client;

/// <summary>One dispatch of an input to an executor, and the one state it ends in.</summary>
/// <remarks>
/// The state moves once, from <see cref="Dispatched"/> to one of the others, by compare-and-swap: whichever of the
/// reply, the loss of the silo and the pool's stop comes first decides, and the others find it taken.
/// </remarks>
internal sealed class CallEntry<TIn>(long callId, TIn input, int slot, NodeCounters node)
{
    public const int Dispatched = 0;
    public const int Completed = 1;
    public const int Failed = 2;
    public const int Lost = 3;
    public const int CancelledByStop = 4;

    private int _state;

    public long CallId { get; } = callId;

    public TIn Input { get; } = input;

    public int Slot { get; } = slot;

    public NodeCounters Node { get; } = node;

    public int State => Volatile.Read(ref _state);

    /// <summary>Ends the call in <paramref name="state"/> if it has not ended yet.</summary>
    /// <returns><see langword="true"/> if this call ended it.</returns>
    public bool TryEnd(int state) => Interlocked.CompareExchange(ref _state, state, Dispatched) == Dispatched;
}
