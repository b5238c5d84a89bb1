namespace Parallelize.Orleans;

/// <summary>
/// Why an executor on the cluster was lost: its silo left the membership (declared dead, or shutting down), a call to it
/// failed because it was unavailable, or its grain answered from another activation. The calls it had in flight may or
/// may not have run; the pool queues them again for another executor without using their attempts.
/// </summary>
/// <remarks>
/// The pool sees the loss as an infrastructure fault: the executor is blamed and re-created on a live silo, one restart
/// per lost executor (<see cref="ParallelizeOptions.MaxRestarts"/>). An input's <see cref="Failure{TIn}.Exceptions"/>
/// lists this exception for each time it was lost, beside the attempts that failed.
/// </remarks>
public sealed class SiloLostException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public SiloLostException()
        : this("The silo running the executor was lost.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What happened.</param>
    public SiloLostException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the exception that revealed the loss.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">What Orleans threw, if anything.</param>
    public SiloLostException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the address of the silo that was lost.</summary>
    public string? Node { get; init; }

    /// <summary>Gets the index of the executor in its executor set.</summary>
    public int Slot { get; init; }

    /// <summary>Gets how many calls the executor had in flight on the silo when it was lost.</summary>
    public int CallsInFlight { get; init; }
}
