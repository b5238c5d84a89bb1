using Parallelize.Pipelines;

namespace Parallelize;

/// <summary>
/// Says that a pool cannot run: no executor can run calls any more — every one was retired because it could not be
/// created, or kept failing inputs that others ran — so the calls still queued never will. Thrown by every entry point
/// that meets such a pool: <c>Invoke</c> and its siblings, <c>Wait</c>, the result streams, <c>ParallelMap</c> and
/// pipelines. The inputs it could not run are aborted when the pool stops (<c>Stop</c> returns them; afterwards they
/// are in <c>Aborted</c>); nothing is lost.
/// </summary>
/// <remarks>It is an <see cref="InvalidOperationException"/>: the pool is in a state where the operation cannot succeed.</remarks>
public sealed class ParallelizeException : InvalidOperationException
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public ParallelizeException()
        : this("The pool cannot run: every executor has been retired.")
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
    /// <exception cref="ArgumentNullException"><paramref name="innerExceptions"/> is <see langword="null"/>.</exception>
    public ParallelizeException(string message, IEnumerable<Exception> innerExceptions)
        : this(message, (innerExceptions ?? throw new ArgumentNullException(nameof(innerExceptions))).ToArray())
    {
    }

    private ParallelizeException(string message, Exception[] innerExceptions)
        : base(message, innerExceptions.Length > 0 ? innerExceptions[0] : null)
    {
        InnerExceptions = innerExceptions;
    }

    /// <summary>Gets the causes: the last fault of each retired executor, in executor order.</summary>
    public IReadOnlyList<Exception> InnerExceptions { get; }

    /// <summary>
    /// Gets, when a pipeline could not run, the report of each of its stages — what each completed, aborted and failed —
    /// since a pipeline that throws returns no <see cref="PipelineResult{TResult}"/>; empty otherwise.
    /// </summary>
    public IReadOnlyList<StageReport> Stages { get; private init; } = [];

    /// <summary>The fault of a pool whose <paramref name="executors"/> executors are all retired.</summary>
    internal static ParallelizeException CannotRun(int executors, IEnumerable<Exception> causes) =>
        new(
            $"The pool cannot run: all {executors} of its executors have been retired (they could not be created, or kept failing inputs that others ran; see InnerExceptions), so the calls still queued will never run. They are aborted when the pool stops.",
            causes);

    /// <summary>A new instance like this one, to throw again with a stack trace of its own.</summary>
    internal ParallelizeException Rethrown() => new(Message, [.. InnerExceptions]);

    /// <summary>The same fault, said of a pipeline stage: the pipeline stopped, and what each stage did is in <see cref="Stages"/>.</summary>
    internal ParallelizeException ForStage(string stage, IReadOnlyList<StageReport> stages) =>
        new(
            $"Pipeline stage '{stage}' cannot run: all of its executors have been retired (see InnerExceptions). The pipeline stopped; what each stage completed, aborted and failed is in this exception's Stages.",
            [.. InnerExceptions])
        {
            Stages = stages,
        };
}
