using System.Collections.Concurrent;

namespace Parallelize.Core;

/// <summary>
/// One accepted call, as the queue and the workers' batches hold it: a value of the input and one <see langword="long"/>,
/// so queuing a call allocates nothing and a queued <see langword="long"/> input takes 16 bytes.
/// </summary>
/// <remarks>
/// <para>Ownership: a call is owned by the <see cref="WorkQueue{TIn}"/> while queued, then by the worker whose batch
/// holds it, until that worker (or <c>Stop</c>, which can steal a batch, see <see cref="Worker{TIn, TOut}"/>) routes it
/// to its one destination. Only the owner reads or writes it.</para>
/// <para>Layout: <c>_meta</c> holds the sequence in its low 62 bits, "has failed attempts" in bit 62 and "holds a
/// place of a bounded queue" in bit 63. The exceptions of failed attempts live in <see cref="CallHistories"/>,
/// keyed by sequence: allocated only when a call fails, never on the fast path.</para>
/// </remarks>
internal struct QueuedCall<TIn>
{
    private const long PlaceBit = long.MinValue;
    private const long HistoryBit = 1L << 62;
    private const long SequenceMask = HistoryBit - 1;

    /// <summary>The input; a retry may replace it.</summary>
    public TIn Input;

    private long _meta;

    public QueuedCall(TIn input, long sequence, bool holdsPlace)
    {
        Input = input;
        _meta = sequence | (holdsPlace ? PlaceBit : 0);
    }

    /// <summary>Gets the position of the call in call order (1-based), set by the queue, under its lock, when the call is accepted.</summary>
    public readonly long Sequence => _meta & SequenceMask;

    /// <summary>Gets a value indicating whether an attempt of the call has failed (its exceptions are in <see cref="CallHistories"/>).</summary>
    public readonly bool HasHistory => (_meta & HistoryBit) != 0;

    /// <summary>Gets or sets a value indicating whether the call holds a place of a bounded queue: true from acceptance until a worker first takes it.</summary>
    public bool HoldsPlace
    {
        readonly get => _meta < 0;
        set => _meta = value ? _meta | PlaceBit : _meta & ~PlaceBit;
    }

    /// <summary>Records one failed attempt. Only the owner calls it.</summary>
    /// <param name="histories">The pool's histories.</param>
    /// <param name="error">What went wrong.</param>
    /// <returns>How many attempts the call has used.</returns>
    public int RecordAttempt(CallHistories histories, Exception error)
    {
        _meta |= HistoryBit;
        return histories.Add(Sequence, error);
    }

    /// <summary>Builds the failure record of a call that used up its attempts, and forgets its history.</summary>
    /// <param name="histories">The pool's histories.</param>
    /// <returns>The failure.</returns>
    public readonly Failure<TIn> ToFailure(CallHistories histories)
    {
        Exception[] errors = HasHistory ? histories.Take(Sequence) : [];
        return new Failure<TIn>(Input, errors.Length, errors);
    }
}

/// <summary>The exceptions of the calls whose attempts failed, by sequence.</summary>
/// <remarks>Each entry is touched only by the owner of its call (see <see cref="QueuedCall{TIn}"/>); the dictionary is concurrent because owners of different calls use it at once.</remarks>
internal sealed class CallHistories
{
    private readonly ConcurrentDictionary<long, List<Exception>> _errors = new();

    /// <summary>Adds a failed attempt.</summary>
    /// <returns>How many attempts the call has used.</returns>
    public int Add(long sequence, Exception error)
    {
        List<Exception> errors = _errors.GetOrAdd(sequence, static _ => []);
        errors.Add(error);
        return errors.Count;
    }

    /// <summary>Removes and returns a call's exceptions.</summary>
    public Exception[] Take(long sequence) =>
        _errors.TryRemove(sequence, out List<Exception>? errors) ? [.. errors] : [];

    /// <summary>Forgets a call that succeeded after failed attempts.</summary>
    public void Forget(long sequence) => _errors.TryRemove(sequence, out _);
}
