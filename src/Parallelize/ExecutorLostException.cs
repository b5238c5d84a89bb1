namespace Parallelize;

/// <summary>
/// Says that an executor was lost — its connection, process or node — rather than that its input failed: the input is
/// queued again for another executor without using one of its attempts, and this executor is blamed for the fault
/// and restarted (a deferred executor is created again), under the restart policy.
/// </summary>
/// <remarks>
/// <para>Throw it from an executor that finds its connection broken. The pool raises it itself for a worker process
/// that died or a cluster node that left. Because the call may have run before the executor was lost, execution is
/// at least once; the pool still counts the input exactly once.</para>
/// <para>An executor that throws it for every call is retired when its restart budget is spent
/// (<see cref="ParallelizeOptions.MaxRestarts"/>), so a run never loops on it forever.</para>
/// </remarks>
public sealed class ExecutorLostException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public ExecutorLostException()
        : base("The executor was lost; the input is queued again for another executor.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What was lost.</param>
    public ExecutorLostException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and its cause.</summary>
    /// <param name="message">What was lost.</param>
    /// <param name="innerException">The error that showed it, such as a broken connection.</param>
    public ExecutorLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
