namespace Parallelize;

/// <summary>
/// Thrown by <see cref="Parallelize{TIn, TOut}.Wait()"/> and its overloads when the pool is faulted: every
/// executor has been retired by the restart policy, so the calls still queued can never run. The inputs not yet
/// done are returned by <see cref="Parallelize{TIn, TOut}.Stop(TimeSpan?)"/>; nothing is lost.
/// </summary>
public sealed class ParallelizeException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public ParallelizeException()
        : this("Every executor of the pool has been retired.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public ParallelizeException(string message)
        : base(message)
    {
        InnerExceptions = [];
    }

    /// <summary>Initializes a new instance with a message and one cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ParallelizeException(string message, Exception innerException)
        : base(message, innerException)
    {
        InnerExceptions = innerException is null ? [] : [innerException];
    }

    /// <summary>Initializes a new instance with a message and its causes.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerExceptions">The causes: the last fault of each retired executor.</param>
    public ParallelizeException(string message, IEnumerable<Exception> innerExceptions)
        : this(message, (innerExceptions ?? throw new ArgumentNullException(nameof(innerExceptions))).ToArray(), [])
    {
    }

    /// <summary>Initializes a new instance with a message, its causes, and the inputs that were aborted.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerExceptions">The causes: the last fault of each retired executor.</param>
    /// <param name="abortedInputs">The inputs that could not run and were aborted, in call order.</param>
    public ParallelizeException(string message, IEnumerable<Exception> innerExceptions, IEnumerable<object?> abortedInputs)
        : this(
            message,
            (innerExceptions ?? throw new ArgumentNullException(nameof(innerExceptions))).ToArray(),
            (abortedInputs ?? throw new ArgumentNullException(nameof(abortedInputs))).ToArray())
    {
    }

    private ParallelizeException(string message, Exception[] innerExceptions, object?[] abortedInputs)
        : base(message, innerExceptions.Length > 0 ? innerExceptions[0] : null)
    {
        InnerExceptions = innerExceptions;
        AbortedInputs = abortedInputs;
    }

    /// <summary>Gets the causes: the last fault of each retired executor, in executor order.</summary>
    public IReadOnlyList<Exception> InnerExceptions { get; }

    /// <summary>
    /// Gets the inputs that were aborted because of the fault, in call order, when they could not be handed back any
    /// other way (<c>Dispose</c> of a faulted pool); empty when thrown by <c>Wait</c>, since <c>Stop</c> returns them.
    /// </summary>
    public IReadOnlyList<object?> AbortedInputs { get; } = [];
}
