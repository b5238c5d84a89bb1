using System.Collections.Concurrent;

namespace Parallelize.Core;

/// <summary>What happened to one call's failed attempts: their exceptions, how many count, and whom to blame.</summary>
/// <remarks>
/// <para>Touched only by the owner of its call (see <see cref="QueuedCall{TIn}"/>): one thread at a time, so no lock.</para>
/// <para><b>Blame.</b> A failed attempt is the input's when the input also fails on another executor; it is the
/// executor's when the input then succeeds on another one. So the first failure on executor A only makes A a
/// <em>suspect</em> (<see cref="Suspect"/>, with A's generation then); the input's next attempt settles it: a failure
/// elsewhere clears the suspect (the input is bad), a success elsewhere blames A (<see cref="CallHistories.Succeeded"/>
/// charges it). A failure on the same executor again, or the input's final failure, leaves nobody blamed.</para>
/// </remarks>
internal sealed class CallHistory
{
    /// <summary>Gets the exception of every failed attempt, oldest first.</summary>
    public List<Exception> Errors { get; } = [];

    /// <summary>Gets the executors the call failed on (a few at most).</summary>
    public List<int> FailedOn { get; } = [];

    /// <summary>Gets or sets the attempts that count against <see cref="ParallelizeOptions.MaxAttempts"/>.</summary>
    public int Counted { get; set; }

    /// <summary>Gets or sets how many times the call crashed or lost its executor's process.</summary>
    public int Crashes { get; set; }

    /// <summary>Gets or sets the executor of the last failed attempt (a retry avoids it), or -1.</summary>
    public int LastExecutor { get; set; } = -1;

    /// <summary>Gets or sets the executor whose fault waits for this call's next attempt to be blamed, or -1.</summary>
    public int Suspect { get; set; } = -1;

    /// <summary>Gets or sets the suspect's generation (restart count) when it failed the call.</summary>
    public int SuspectGeneration { get; set; }

    /// <summary>Gets or sets the outage detector's outcome number of the last counted failure (0: none), so an outage can refund it.</summary>
    public long LastCountedOutcome { get; set; }

    /// <summary>Gets or sets a value indicating whether the call was given one attempt beyond its last because an outage seemed to be starting.</summary>
    public bool Graced { get; set; }
}

/// <summary>The records of the calls whose attempts failed, by sequence, and the blame they settle on success.</summary>
/// <remarks>Each entry is touched only by the owner of its call; the dictionary is concurrent because owners of different calls use it at once.</remarks>
internal sealed class CallHistories
{
    private readonly ConcurrentDictionary<long, CallHistory> _records = new();
    private readonly Action<int, int, Exception> _charge;

    /// <summary>Initializes the histories.</summary>
    /// <param name="charge">Blames executor (index, generation) for a fault (the exception): called when an input that failed on it succeeds elsewhere. Must not block or call user code.</param>
    public CallHistories(Action<int, int, Exception> charge) => _charge = charge;

    /// <summary>Gets the record of a call, creating it at its first failure; marks the call as having one.</summary>
    /// <typeparam name="TIn">The type of the inputs.</typeparam>
    /// <param name="call">The call, owned by the caller.</param>
    /// <returns>The record.</returns>
    public CallHistory Record<TIn>(ref QueuedCall<TIn> call)
    {
        call.MarkHistory();
        return _records.GetOrAdd(call.Sequence, static _ => new CallHistory());
    }

    /// <summary>Gets the record of a call that has one; <see langword="null"/> otherwise.</summary>
    public CallHistory? Find(long sequence) => _records.TryGetValue(sequence, out CallHistory? record) ? record : null;

    /// <summary>
    /// A call with a history succeeded on <paramref name="executor"/>: if another executor was its suspect, that one is
    /// blamed for the fault. The record is forgotten.
    /// </summary>
    public void Succeeded(long sequence, int executor)
    {
        if (_records.TryRemove(sequence, out CallHistory? record) && record.Suspect >= 0 && record.Suspect != executor)
        {
            _charge(record.Suspect, record.SuspectGeneration, record.Errors[^1]);
        }
    }

    /// <summary>Removes and returns a call's exceptions, for its failure record or its abort.</summary>
    public Exception[] Take(long sequence) =>
        _records.TryRemove(sequence, out CallHistory? record) ? [.. record.Errors] : [];

    /// <summary>Forgets a call that ended without a blame to settle (aborted).</summary>
    public void Forget(long sequence) => _records.TryRemove(sequence, out _);
}
