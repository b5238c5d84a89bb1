using System.Globalization;

namespace Parallelize.Processes;

/// <summary>
/// A run of a <see cref="ProcessExecutor"/> that exited with a non-zero code or reached its timeout, with its
/// <see cref="Result"/> (exit code, output, elapsed time).
/// </summary>
/// <remarks>
/// With <see cref="ProcessFailureHandling.Fail"/> (the default) the executor throws it as the inner exception of a
/// <see cref="RetryException"/>, so each attempt of a failed input in <c>Failures</c> carries one:
/// <code>
/// foreach (Failure&lt;ProcessRequest&gt; failure in pool.Failures)
///     if (failure.Exceptions[^1].InnerException is ProcessFailedException { Result: var last })
///         Console.WriteLine($"{last}: {last.StandardError}");
/// </code>
/// </remarks>
public sealed class ProcessFailedException : Exception
{
    /// <summary>How much of the standard error the message quotes, at most.</summary>
    private const int QuotedErrorLength = 500;

    /// <summary>Initializes a new instance with a default message and no result.</summary>
    public ProcessFailedException()
        : base("The process failed.")
    {
    }

    /// <summary>Initializes a new instance with a message and no result.</summary>
    /// <param name="message">The message.</param>
    public ProcessFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message, a cause and no result.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ProcessFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance for a failed run; the message names the command, how it ended, and the end of its standard error.</summary>
    /// <param name="result">The failed run.</param>
    /// <exception cref="ArgumentNullException"><paramref name="result"/> is <see langword="null"/>.</exception>
    public ProcessFailedException(ProcessResult result)
        : base(Describe(result ?? throw new ArgumentNullException(nameof(result))))
    {
        Result = result;
    }

    /// <summary>Gets the failed run; <see langword="null"/> only when created without one.</summary>
    public ProcessResult? Result { get; }

    private static string Describe(ProcessResult result)
    {
        string error = result.StandardError.Trim();
        if (error.Length == 0)
        {
            return result + ".";
        }

        if (error.Length > QuotedErrorLength)
        {
            error = string.Concat("…", error.AsSpan(error.Length - QuotedErrorLength));
        }

        return string.Create(CultureInfo.InvariantCulture, $"{result}. Standard error: {error}");
    }
}
