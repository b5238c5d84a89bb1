namespace Parallelize;

/// <summary>
/// Thrown by an executor to ask for its input to be tried again without counting a fault: the executor is not
/// restarted. The retry still uses one of the input's <see cref="ParallelizeOptions.MaxAttempts"/>, so an input
/// that is retried forever still ends, in <see cref="Parallelize{TIn, TOut}.Failures"/>.
/// </summary>
/// <remarks>
/// Use <see cref="WithInput{T}(T, string?)"/> to retry with a replacement input, as the original lets a job rewrite
/// its input before a retry. The replacement must be of the pool's input type.
/// </remarks>
public sealed class RetryException : Exception
{
    /// <summary>Initializes a new instance that retries the same input.</summary>
    public RetryException()
        : base("The executor asked for the input to be retried.")
    {
    }

    /// <summary>Initializes a new instance that retries the same input.</summary>
    /// <param name="message">Why the input is retried; kept with the input's exceptions.</param>
    public RetryException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance that retries the same input.</summary>
    /// <param name="message">Why the input is retried; kept with the input's exceptions.</param>
    /// <param name="innerException">The error that made the retry necessary.</param>
    public RetryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private RetryException(string message, object? replacementInput)
        : base(message)
    {
        HasReplacementInput = true;
        ReplacementInput = replacementInput;
    }

    /// <summary>Gets a value indicating whether the retry runs with <see cref="ReplacementInput"/> instead of the original input.</summary>
    public bool HasReplacementInput { get; }

    /// <summary>Gets the input to retry with, when <see cref="HasReplacementInput"/> is <see langword="true"/>.</summary>
    public object? ReplacementInput { get; }

    /// <summary>Creates an exception that retries with a replacement input.</summary>
    /// <typeparam name="T">The pool's input type.</typeparam>
    /// <param name="input">The input to retry with.</param>
    /// <param name="message">Why the input is retried; kept with the input's exceptions.</param>
    /// <returns>The exception to throw.</returns>
    public static RetryException WithInput<T>(T input, string? message = null) =>
        new(message ?? "The executor asked for the input to be retried with a replacement.", input);
}
