namespace Parallelize.Processes;

/// <summary>What a <see cref="ProcessExecutor"/> does with a run that failed: a non-zero exit code or a timeout.</summary>
public enum ProcessFailureHandling
{
    /// <summary>
    /// The run is a failure of its input: the executor throws a <see cref="RetryException"/> whose inner exception is a
    /// <see cref="ProcessFailedException"/> carrying the <see cref="ProcessResult"/>. The pool tries the input again,
    /// up to <see cref="ParallelizeOptions.MaxAttempts"/> times in all, then puts it in <c>Failures</c>. Because the
    /// retry is not an executor fault, failing commands never restart or retire the executor.
    /// </summary>
    Fail,

    /// <summary>The run is a result like any other: its <see cref="ProcessResult"/> goes to <c>Results</c>, tried once, with <see cref="ProcessResult.Succeeded"/> <see langword="false"/>.</summary>
    ReturnResult,
}
