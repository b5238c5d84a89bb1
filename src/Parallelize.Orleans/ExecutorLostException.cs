namespace Parallelize.Orleans;

/// <summary>
/// The silo running an executor was lost with a call in flight: the membership declared it dead, or the call failed
/// because the silo was unavailable. The call may or may not have run; the pool runs it again elsewhere.
/// </summary>
/// <remarks>
/// Today the pool counts this as a fault of the executor: the input uses one attempt and the executor is re-created
/// on a live silo. An input ends in <c>Failures</c> with this exception only if every one of its attempts was lost.
/// </remarks>
public sealed class ExecutorLostException : Exception
{
    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What happened.</param>
    public ExecutorLostException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that revealed the loss.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">What Orleans threw, if anything.</param>
    public ExecutorLostException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance.</summary>
    public ExecutorLostException()
        : this("The silo running the executor was lost.")
    {
    }

    /// <summary>Gets the address of the silo that was lost.</summary>
    public string? Node { get; init; }

    /// <summary>Gets the index of the executor in its pool.</summary>
    public int Slot { get; init; }
}
