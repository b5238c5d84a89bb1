namespace Parallelize.Isolation;

/// <summary>Why a worker process was lost.</summary>
public enum WorkerExitReason
{
    /// <summary>The process died on its own: a signal (a crash, <c>kill -9</c>), <c>Environment.FailFast</c>, a stack overflow, or an exit it was not asked for.</summary>
    Crashed,

    /// <summary>A call ran past <see cref="IsolationOptions.CallTimeout"/>, and the process was killed.</summary>
    CallTimeout,

    /// <summary>Starting the process and creating its executor took longer than <see cref="IsolationOptions.StartTimeout"/>, and the process was killed.</summary>
    StartTimeout,

    /// <summary>The process wrote something that is not the protocol where the protocol was expected, and was killed.</summary>
    ProtocolError,

    /// <summary>The process could not be started at all.</summary>
    StartFailed,

    /// <summary>The process was asked to exit (disposal, recycling) or killed because the pool stopped.</summary>
    Shutdown,
}
