using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Parallelize.Isolation;

/// <summary>An exception thrown in a worker process, as it crosses the protocol: its type, message and stack as text.</summary>
/// <param name="Type">The exception's full type name.</param>
/// <param name="Message">Its message.</param>
/// <param name="StackTrace">Its stack trace.</param>
/// <param name="Text">Its <see cref="Exception.ToString"/>.</param>
/// <param name="IsRetry">It was a <see cref="RetryException"/>: retry without a fault.</param>
/// <param name="IsCancellation">It was an <see cref="OperationCanceledException"/> after the parent cancelled the call.</param>
/// <param name="Replacement">For a <see cref="RetryException.WithInput{T}"/>: the encoded replacement input.</param>
internal sealed record RemoteError(string Type, string Message, string StackTrace, string Text, bool IsRetry, bool IsCancellation, byte[]? Replacement)
{
    private const byte RetryFlag = 1;
    private const byte CancellationFlag = 2;
    private const byte ReplacementFlag = 4;

    public static RemoteError From(Exception exception, bool cancelled, byte[]? replacement) => new(
        exception.GetType().FullName ?? exception.GetType().Name,
        exception.Message,
        exception.StackTrace ?? string.Empty,
        exception.ToString(),
        exception is RetryException,
        cancelled && exception is OperationCanceledException,
        replacement);

    public void Write(IBufferWriter<byte> output)
    {
        byte flags = (byte)((IsRetry ? RetryFlag : 0) | (IsCancellation ? CancellationFlag : 0) | (Replacement is not null ? ReplacementFlag : 0));
        output.Write([flags]);
        WriteString(output, Type);
        WriteString(output, Message);
        WriteString(output, StackTrace);
        WriteString(output, Text);
        if (Replacement is not null)
        {
            WriteBytes(output, Replacement);
        }
    }

    public static RemoteError Read(ReadOnlySpan<byte> data)
    {
        byte flags = data[0];
        data = data[1..];
        string type = ReadString(ref data);
        string message = ReadString(ref data);
        string stack = ReadString(ref data);
        string text = ReadString(ref data);
        byte[]? replacement = (flags & ReplacementFlag) != 0 ? ReadBytes(ref data).ToArray() : null;
        return new RemoteError(type, message, stack, text, (flags & RetryFlag) != 0, (flags & CancellationFlag) != 0, replacement);
    }

    public RemoteExecutorException ToException(int processId) => new(Type, Message, StackTrace, Text, processId);

    private static void WriteString(IBufferWriter<byte> output, string value) => WriteBytes(output, Encoding.UTF8.GetBytes(value));

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> value)
    {
        Span<byte> length = output.GetSpan(4);
        BinaryPrimitives.WriteInt32LittleEndian(length, value.Length);
        output.Advance(4);
        output.Write(value);
    }

    private static string ReadString(ref ReadOnlySpan<byte> data) => Encoding.UTF8.GetString(ReadBytes(ref data));

    private static ReadOnlySpan<byte> ReadBytes(ref ReadOnlySpan<byte> data)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(data);
        ReadOnlySpan<byte> value = data.Slice(4, length);
        data = data[(4 + length)..];
        return value;
    }
}
