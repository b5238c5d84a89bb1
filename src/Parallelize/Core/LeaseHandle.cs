namespace Parallelize.Core;

/// <summary>
/// A slot's view of one lease run in any order (see <see cref="IExecutorSlot{TIn, TOut}"/>): the lease stamped with its
/// number, so that a report that comes after the lease is over — late, or twice — can never be taken for a call of the
/// runner's next lease. Cheap to copy; every method takes the lease's lock briefly.
/// </summary>
/// <typeparam name="TIn">The type of the inputs.</typeparam>
/// <typeparam name="TOut">The type of the results.</typeparam>
internal readonly struct LeaseHandle<TIn, TOut>
{
    private readonly CallLease<TIn, TOut> _lease;
    private readonly long _epoch;

    internal LeaseHandle(CallLease<TIn, TOut> lease, long epoch)
    {
        _lease = lease;
        _epoch = epoch;
        Count = lease.Count;
    }

    /// <summary>Gets how many calls the lease held when it began.</summary>
    public int Count { get; }

    /// <summary>Reads a call that is still open: its input and its id (unique in the pool, to send across a wire).</summary>
    /// <returns><see langword="false"/> if the call is settled or taken back, or the lease is over: skip it.</returns>
    public bool TryRead(int index, out TIn input, out long callId) => _lease.TryRead(_epoch, index, out input, out callId, out _);

    /// <summary>Reads a call that is still open: its input, its id, and which attempt this is (1 for the first).</summary>
    /// <returns><see langword="false"/> if the call is settled or taken back, or the lease is over: skip it.</returns>
    public bool TryRead(int index, out TIn input, out long callId, out int attempt) => _lease.TryRead(_epoch, index, out input, out callId, out attempt);

    /// <summary>Hands the call back unrun — the slot will not send it — to be queued again at once for any executor.</summary>
    /// <returns><see langword="false"/> if the call was settled or taken back already, or the lease is over.</returns>
    public bool TryReturn(int index) => _lease.TryReturn(_epoch, index);

    /// <summary>Records that the call left this process (if it is taken back later, it may have run).</summary>
    /// <returns><see langword="false"/> if the call is settled or taken back, or the lease is over: do not send it.</returns>
    public bool MarkSent(int index) => _lease.MarkSent(_epoch, index);

    /// <summary>The call returned <paramref name="output"/>: it is delivered now.</summary>
    /// <returns><see langword="false"/> if it was late (the call was settled or taken back already): dropped and counted.</returns>
    public bool TryComplete(int index, TOut output) => _lease.TryComplete(_epoch, index, output);

    /// <summary>The call failed with <paramref name="error"/>; <see cref="FailureKind.Crashed"/> if its process died running it.</summary>
    /// <returns>What the runner must do with its executor; <see langword="null"/> if the failure was late (dropped and counted).</returns>
    public FaultAction? TryFail(int index, Exception error, FailureKind kind) => _lease.TryFail(_epoch, index, error, kind);

    /// <summary>
    /// Reports how long the lease's calls ran where they run, without the round trip (for example, as timed on the
    /// node that ran them). Optional: a slot that reports it gets leases sized on its calls' cost, so that many small
    /// calls share one message however slow the transport; one that does not gets leases sized on the round trip. May
    /// be called more than once (the times add up), also after the lease's last call is settled; a report made once the
    /// runner has begun its next lease is dropped.
    /// </summary>
    public void ReportRunTime(TimeSpan elapsed) => _lease.ReportRunTime(_epoch, elapsed);
}
