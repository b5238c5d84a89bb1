namespace Parallelize.Orleans.Grains;

/// <summary>
/// An exception thrown by an executor on a silo, as text: its type, message and stack trace travel, the exception
/// object does not (user exception types need not be serializable, nor known to the client).
/// </summary>
/// <param name="TypeName">The full name of the exception's type.</param>
/// <param name="Message">Its message.</param>
/// <param name="StackTrace">Its stack trace on the silo, with inner exceptions, as <see cref="Exception.ToString"/> writes it.</param>
/// <param name="IsRetry">The executor threw <see cref="RetryException"/>: retry without a fault.</param>
[GenerateSerializer]
[Immutable]
internal sealed record RemoteFailure(
    [property: Id(0)] string TypeName,
    [property: Id(1)] string Message,
    [property: Id(2)] string? StackTrace,
    [property: Id(3)] bool IsRetry)
{
    /// <summary>Describes an exception caught on the silo.</summary>
    public static RemoteFailure From(Exception exception) =>
        new(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.ToString(), exception is RetryException);
}
