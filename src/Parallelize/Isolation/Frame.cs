using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Parallelize.Isolation;

/// <summary>What a frame of the worker protocol carries.</summary>
internal enum FrameKind : byte
{
    /// <summary>Parent to worker: create (or create again) the executor; the payload is the <see cref="ExecutorSpec"/>.</summary>
    Create = 1,

    /// <summary>Parent to worker: run one call; the payload is the encoded input.</summary>
    Call = 2,

    /// <summary>Parent to worker: cancel the call with this id (its token is cancelled).</summary>
    Cancel = 3,

    /// <summary>Parent to worker: dispose the executor and exit.</summary>
    Shutdown = 4,

    /// <summary>Worker to parent, first: the worker is up; the payload is its process id.</summary>
    Hello = 0x81,

    /// <summary>Worker to parent: the executor was created.</summary>
    Created = 0x82,

    /// <summary>Worker to parent: creating the executor threw; the payload is a <see cref="RemoteError"/>.</summary>
    CreateFailed = 0x83,

    /// <summary>Worker to parent: the call returned; the payload is the encoded result.</summary>
    Result = 0x84,

    /// <summary>Worker to parent: the call threw (or its result could not be encoded); the payload is a <see cref="RemoteError"/>.</summary>
    Error = 0x85,
}

/// <summary>
/// The worker protocol's framing. A frame is a 4-byte little-endian length (of what follows), a kind byte, an 8-byte
/// call id and the payload. The worker's first bytes are <see cref="Magic"/> and a <see cref="FrameKind.Hello"/>
/// frame: whatever comes before the magic (a runtime message printed before the worker took its standard output
/// over) is skipped.
/// </summary>
internal static class Frame
{
    public const int HeaderSize = 4 + 1 + 8;

    /// <summary>The longest frame accepted: a larger length is taken for garbage, not for a frame.</summary>
    public const int MaxLength = 1 << 30;

    /// <summary>Written by the worker before its first frame.</summary>
    public static ReadOnlySpan<byte> Magic => "\0PZWORKER1\n"u8;

    /// <summary>Starts a frame in <paramref name="buffer"/>: reserves the header, to be filled by <see cref="End"/>.</summary>
    public static void Begin(ArrayBufferWriter<byte> buffer)
    {
        buffer.ResetWrittenCount();
        buffer.GetSpan(HeaderSize);
        buffer.Advance(HeaderSize);
    }

    /// <summary>Fills in the header of the frame written to <paramref name="buffer"/> since <see cref="Begin"/>.</summary>
    public static ReadOnlyMemory<byte> End(ArrayBufferWriter<byte> buffer, FrameKind kind, long id)
    {
        ReadOnlyMemory<byte> written = buffer.WrittenMemory;
        Span<byte> header = System.Runtime.InteropServices.MemoryMarshal.AsMemory(written).Span;
        BinaryPrimitives.WriteInt32LittleEndian(header, written.Length - 4);
        header[4] = (byte)kind;
        BinaryPrimitives.WriteInt64LittleEndian(header[5..], id);
        return written;
    }

    /// <summary>Writes a whole frame with a payload to <paramref name="buffer"/>.</summary>
    public static ReadOnlyMemory<byte> Build(ArrayBufferWriter<byte> buffer, FrameKind kind, long id, ReadOnlySpan<byte> payload)
    {
        Begin(buffer);
        buffer.Write(payload);
        return End(buffer, kind, id);
    }

    /// <summary>Reads exactly <paramref name="buffer"/>'s length; <see langword="false"/> at the end of the stream before the first byte.</summary>
    /// <exception cref="EndOfStreamException">The stream ended part-way.</exception>
    public static bool ReadExactly(Stream stream, Span<byte> buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0)
            {
                return read == 0 ? false : throw new EndOfStreamException("The stream ended inside a frame.");
            }

            read += n;
        }

        return true;
    }

    /// <summary>Reads one frame (blocking).</summary>
    /// <returns><see langword="false"/> at the end of the stream, between frames.</returns>
    /// <exception cref="EndOfStreamException">The stream ended inside a frame.</exception>
    /// <exception cref="InvalidDataException">The length is not one a frame can have.</exception>
    public static bool Read(Stream stream, Span<byte> header, out FrameKind kind, out long id, out byte[] payload)
    {
        if (!ReadExactly(stream, header[..HeaderSize]))
        {
            kind = default;
            id = 0;
            payload = [];
            return false;
        }

        int length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length < HeaderSize - 4 || length > MaxLength)
        {
            throw new InvalidDataException($"A frame of {length} bytes is not a frame of the worker protocol.");
        }

        kind = (FrameKind)header[4];
        id = BinaryPrimitives.ReadInt64LittleEndian(header[5..]);
        payload = length == HeaderSize - 4 ? [] : new byte[length - (HeaderSize - 4)];
        if (payload.Length > 0 && !ReadExactly(stream, payload))
        {
            throw new EndOfStreamException("The stream ended inside a frame.");
        }

        return true;
    }

    /// <summary>Skips bytes until <see cref="Magic"/> has been read; <paramref name="skipped"/> keeps (some of) what came before it.</summary>
    /// <returns><see langword="false"/> if the stream ended, or <paramref name="limit"/> bytes came, first.</returns>
    public static bool SkipToMagic(Stream stream, int limit, StringBuilder skipped)
    {
        ReadOnlySpan<byte> magic = Magic;
        int matched = 0;
        Span<byte> one = stackalloc byte[1];
        for (int count = 0; count < limit; count++)
        {
            if (stream.Read(one) == 0)
            {
                return false;
            }

            byte b = one[0];
            if (b == magic[matched])
            {
                if (++matched == magic.Length)
                {
                    return true;
                }

                continue;
            }

            if (skipped.Length < 4096)
            {
                skipped.Append(Encoding.UTF8.GetString(magic[..matched]));
                skipped.Append((char)b);
            }

            matched = b == magic[0] ? 1 : 0;
        }

        return false;
    }
}
