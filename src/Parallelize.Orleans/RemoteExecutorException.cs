namespace Parallelize.Orleans;

/// <summary>An executor threw on a silo; its type, message and stack trace came back as text.</summary>
/// <remarks>The pool handles it as it handles any exception an executor throws: the input uses an attempt, and the fault
/// model of <see cref="ParallelizeOptions"/> decides whether it was the input's fault or the executor's. (An executor
/// that throws <see cref="ExecutorLostException"/> on a silo is seen as lost instead: no attempt is used.)</remarks>
public sealed class RemoteExecutorException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public RemoteExecutorException()
        : this("An executor threw on a silo.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public RemoteExecutorException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public RemoteExecutorException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the full name of the exception type thrown on the silo.</summary>
    public string RemoteType { get; init; } = "";

    /// <summary>Gets the exception as the silo wrote it (<see cref="Exception.ToString"/>: type, message, stack trace, inner exceptions).</summary>
    public string? RemoteStackTrace { get; init; }

    /// <summary>Gets the address of the silo it was thrown on.</summary>
    public string? Node { get; init; }
}
