namespace Parallelize.Core;

/// <summary>
/// One accepted call, as the queue and the leases hold it: a value of the input and one <see langword="long"/>, so
/// queuing a call allocates nothing and a queued <see langword="long"/> input takes 16 bytes, with no reference the
/// garbage collector must track when the input has none.
/// </summary>
/// <remarks>
/// <para>Ownership: a call is owned by the <see cref="WorkQueue{TIn}"/> while queued, then by the lease that took it
/// (see <see cref="CallLease{TIn, TOut}"/>, which says who may settle each of its calls), then — if it waits for
/// another attempt — by the <see cref="RetryScheduler{TIn}"/>, until it is settled in its one place. Only the owner
/// reads or writes it.</para>
/// <para>Layout: <c>_meta</c> holds the sequence in its low 61 bits, "runs in its caller's context" in bit 61, "has
/// failed attempts" in bit 62 and "holds a place of a bounded queue" in bit 63. The caller's context lives in
/// <see cref="CallContexts"/> and what happened to failed attempts in <see cref="CallHistories"/>, both keyed by
/// sequence: used only by calls that need them, never on the fast path.</para>
/// </remarks>
internal struct QueuedCall<TIn>
{
    private const long PlaceBit = long.MinValue;
    private const long HistoryBit = 1L << 62;
    private const long ContextBit = 1L << 61;
    private const long SequenceMask = ContextBit - 1;

    /// <summary>The input; a retry may replace it.</summary>
    public TIn Input;

    private long _meta;

    public QueuedCall(TIn input, long sequence, bool holdsPlace, bool hasContext = false)
    {
        Input = input;
        _meta = sequence | (holdsPlace ? PlaceBit : 0) | (hasContext ? ContextBit : 0);
    }

    /// <summary>Gets the call's id: its position in call order (1-based), set by the queue, under its lock, when the call is accepted. Unique per pool; crosses the wire to remote executors.</summary>
    public readonly long Sequence => _meta & SequenceMask;

    /// <summary>Gets a value indicating whether an attempt of the call has failed (its record is in <see cref="CallHistories"/>).</summary>
    public readonly bool HasHistory => (_meta & HistoryBit) != 0;

    /// <summary>
    /// Gets a value indicating whether the call runs in a context of its caller's, kept in <see cref="CallContexts"/>:
    /// its <see cref="ExecutionContext"/> (<see cref="ParallelizeOptions.FlowExecutionContext"/>), or its
    /// <see cref="System.Diagnostics.Activity"/> when the context does not flow but a trace listener wants the call's span parented.
    /// </summary>
    public readonly bool HasContext => (_meta & ContextBit) != 0;

    /// <summary>Gets a value indicating whether the call has a history or a context to let go of when it ends.</summary>
    public readonly bool HasRecords => (_meta & (HistoryBit | ContextBit)) != 0;

    /// <summary>Gets or sets a value indicating whether the call holds a place of a bounded queue: true from acceptance until a lease first takes it.</summary>
    public bool HoldsPlace
    {
        readonly get => _meta < 0;
        set => _meta = value ? _meta | PlaceBit : _meta & ~PlaceBit;
    }

    /// <summary>Marks the call as having a record in <see cref="CallHistories"/>. Only the owner calls it.</summary>
    public void MarkHistory() => _meta |= HistoryBit;
}
