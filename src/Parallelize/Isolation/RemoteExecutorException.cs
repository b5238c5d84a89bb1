namespace Parallelize.Isolation;

/// <summary>
/// An exception that an isolated executor (or its factory) threw inside its worker process, brought back as text:
/// the remote exception's type name, message and stack trace. The worker process stays up.
/// </summary>
/// <remarks>
/// The pool treats it like any executor exception, under its fault model: the input uses an attempt, and when the pool
/// restarts the executor its instance is created again inside the same worker process, which is not started anew.
/// </remarks>
public sealed class RemoteExecutorException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public RemoteExecutorException()
        : this("An isolated executor threw an exception in its worker process.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public RemoteExecutorException(string message)
        : base(message)
    {
        RemoteType = string.Empty;
        RemoteMessage = message;
        RemoteStackTrace = string.Empty;
        RemoteText = message;
    }

    /// <summary>Initializes a new instance with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public RemoteExecutorException(string message, Exception innerException)
        : base(message, innerException)
    {
        RemoteType = string.Empty;
        RemoteMessage = message;
        RemoteStackTrace = string.Empty;
        RemoteText = message;
    }

    internal RemoteExecutorException(string remoteType, string remoteMessage, string remoteStackTrace, string remoteText, int processId)
        : base($"{remoteType} in worker process {processId}: {remoteMessage}")
    {
        RemoteType = remoteType;
        RemoteMessage = remoteMessage;
        RemoteStackTrace = remoteStackTrace;
        RemoteText = remoteText;
        ProcessId = processId;
    }

    /// <summary>Gets the full name of the remote exception's type, for example <c>System.FormatException</c>.</summary>
    public string RemoteType { get; }

    /// <summary>Gets the remote exception's message.</summary>
    public string RemoteMessage { get; }

    /// <summary>Gets the remote exception's stack trace, as the worker process printed it.</summary>
    public string RemoteStackTrace { get; }

    /// <summary>Gets the remote exception as its <see cref="Exception.ToString"/> printed it: inner exceptions included.</summary>
    public string RemoteText { get; }

    /// <summary>Gets the id of the worker process it was thrown in; 0 when unknown.</summary>
    public int ProcessId { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{base.ToString()}{Environment.NewLine} --- remote ---{Environment.NewLine}{RemoteText}";
}
