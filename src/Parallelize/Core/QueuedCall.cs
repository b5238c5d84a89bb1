namespace Parallelize.Core;

/// <summary>One accepted call, as the queue and the workers' batches hold it: a value, so queuing a call allocates nothing.</summary>
/// <remarks>
/// Ownership: a call is owned by the <see cref="WorkQueue{TIn}"/> while queued, then by the worker whose batch holds
/// it, until that worker (or <c>Stop</c>, which can steal a batch, see <see cref="Worker{TIn, TOut}"/>) routes it to its
/// one destination. Only the owner reads or writes it.
/// </remarks>
internal struct QueuedCall<TIn>
{
    /// <summary>The input; a retry may replace it.</summary>
    public TIn Input;

    /// <summary>The position of the call in call order (1-based), set by the queue, under its lock, when the call is accepted.</summary>
    public long Sequence;

    /// <summary>The attempts that failed so far; <see langword="null"/> until the first one.</summary>
    public CallHistory? History;

    /// <summary>Whether the call holds a place of a bounded queue: true from acceptance until a worker first takes it.</summary>
    public bool HoldsPlace;

    public QueuedCall(TIn input, long sequence, bool holdsPlace)
    {
        Input = input;
        Sequence = sequence;
        History = null;
        HoldsPlace = holdsPlace;
    }

    /// <summary>Gets how many attempts the call has used.</summary>
    public readonly int Attempts => History?.Errors.Count ?? 0;

    /// <summary>Records one used attempt and its exception. Only the owner calls it.</summary>
    /// <param name="error">What went wrong.</param>
    public void RecordAttempt(Exception error) => (History ??= new CallHistory()).Errors.Add(error);

    /// <summary>Builds the failure record of a call that used up its attempts.</summary>
    /// <returns>The failure.</returns>
    public readonly Failure<TIn> ToFailure() => new(Input, Attempts, History?.Errors.ToArray() ?? []);
}

/// <summary>The failed attempts of one call: allocated only when a call fails, never on the fast path.</summary>
internal sealed class CallHistory
{
    /// <summary>Gets the exception of each failed attempt, in order.</summary>
    public List<Exception> Errors { get; } = [];
}
