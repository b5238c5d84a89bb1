using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Parallelize.Files;

/// <summary>
/// One executor of a run: reads a range's bytes itself (positional reads, no shared reader) into a buffer of its
/// own and hands each line that starts in the range to the row action.
/// </summary>
/// <remarks>
/// The pool calls each executor instance from one worker at a time, so <see cref="_buffer"/> needs no lock. Line
/// ownership: a line belongs to the range holding its first byte. A range at offset o &gt; 0 therefore skips to just
/// after the first <c>\n</c> at or after o - 1, and reads on past its end only to finish its last line. Every line
/// is owned by exactly one range, whatever the range size, and no range looks at another's result.
/// </remarks>
/// <typeparam name="TOutput">The per-range output.</typeparam>
internal sealed class RangeReader<TOutput>(FileSource source, RowAction<TOutput> processRow, OutputPool<TOutput> outputs)
    : IExecutor<FileRange, RangeOutcome<TOutput>>
    where TOutput : class
{
    /// <summary>How far past its end a range reads at first to finish its last line; more is read only if that line is longer.</summary>
    private const int InitialTail = 64 * 1024;

    /// <summary>How many bytes of a failed row are kept as its text.</summary>
    private const int FailureTextBytes = 256;

    private byte[] _buffer = [];

    public RangeOutcome<TOutput> Execute(FileRange input, CancellationToken cancellationToken)
    {
        TOutput? output = null;
        List<PendingRowFailure>? failures = null;
        int rows = 0;
        try
        {
            output = outputs.Rent();
            rows = Process(input, output, ref failures, cancellationToken);
            return new RangeOutcome<TOutput>(input, output, rows, failures, exception: null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;   // the pool is stopping: the range is aborted, not failed
        }
#pragma warning disable CA1031 // Any exception here (I/O, a throwing output factory) fails the range and must reach the consumer's thread.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            return new RangeOutcome<TOutput>(input, output, rows, failures, exception);
        }
    }

    // PERF: one call runs a whole range (a loop over ~30,000 lines), called only a few hundred times per run: tiered
    // compilation would run it unoptimized, then on-stack-replaced, for a good part of a short run.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Process(FileRange range, TOutput output, ref List<PendingRowFailure>? failures, CancellationToken cancellationToken)
    {
        long fileLength = source.FileLength(range.FileIndex);
        int maxLine = source.Options.MaxLineLength;
        long end = range.Offset + range.Length;

        // The buffer starts one byte early (except at the file's start) to see whether a line starts at the offset.
        long bufferStart = range.Offset == 0 ? 0 : range.Offset - 1;

        // Enough for the range, plus its last line at the longest, plus "\r\n": the most a range ever needs.
        long fullCapacity = Math.Min(fileLength - bufferStart, (range.Offset - bufferStart) + range.Length + maxLine + 2);
        int loaded = 0;
        int capacity = (int)Math.Min(fullCapacity, (range.Offset - bufferStart) + range.Length + InitialTail);
        if (_buffer.Length < capacity)
        {
            _buffer = new byte[capacity];
        }

        using SafeFileHandle handle = File.OpenHandle(range.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.SequentialScan);
        Load(handle, range, bufferStart, capacity, ref loaded);

        int position = 0;
        if (range.Offset > 0)
        {
            // Only a '\n' at or after Offset - 1 and before End - 1 starts a line inside this range.
            int searchLength = (int)Math.Min(range.Length, loaded);
            int newline = _buffer.AsSpan(0, searchLength).IndexOf((byte)'\n');
            if (newline < 0)
            {
                return 0;
            }

            position = newline + 1;
        }

        int rows = 0;
        int searchedTo = position;
        while (bufferStart + position < end && bufferStart + position < fileLength)
        {
            int lineEnd = _buffer.AsSpan(searchedTo, loaded - searchedTo).IndexOf((byte)'\n');
            if (lineEnd < 0)
            {
                if (bufferStart + loaded < fileLength && loaded < fullCapacity)
                {
                    // The line goes on past what is loaded: load more (double, up to the most this range can need).
                    searchedTo = loaded;
                    int grown = (int)Math.Min(fullCapacity, Math.Max((long)capacity * 2, capacity + InitialTail));
                    Grow(grown, loaded);
                    capacity = grown;
                    Load(handle, range, bufferStart, capacity, ref loaded);
                    continue;
                }

                if (bufferStart + loaded < fileLength)
                {
                    // No line break within MaxLineLength of the line's start: it is too long, and since it ends past
                    // this range's end, no other line starts in this range.
                    long offset = bufferStart + position;
                    failures ??= [];
                    failures.Add(new PendingRowFailure(rows, offset, Text(_buffer.AsSpan(position, loaded - position)), TooLong(range.Path, offset, maxLine)));
                    rows++;
                    break;
                }

                lineEnd = loaded;   // the last line of the file, without a line break
            }
            else
            {
                lineEnd += searchedTo;
            }

            int contentEnd = lineEnd > position && _buffer[lineEnd - 1] == (byte)'\r' ? lineEnd - 1 : lineEnd;
            ReadOnlySpan<byte> line = _buffer.AsSpan(position, contentEnd - position);
            long lineOffset = bufferStart + position;
            if (line.Length > maxLine)
            {
                failures ??= [];
                failures.Add(new PendingRowFailure(rows, lineOffset, Text(line), TooLong(range.Path, lineOffset, maxLine)));
            }
            else
            {
                try
                {
                    processRow(new FileRow(line, range.Path, lineOffset, rows), output);
                }
#pragma warning disable CA1031 // A row action's exception fails that row only; it is reported with the row's position.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    failures ??= [];
                    failures.Add(new PendingRowFailure(rows, lineOffset, Text(line), exception));
                }
            }

            rows++;
            if ((rows & 1023) == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }

            position = lineEnd + 1;
            searchedTo = position;
        }

        return rows;
    }

    private static InvalidDataException TooLong(string path, long offset, int maxLine) =>
        new($"The line at byte offset {offset} of {path} is longer than MaxLineLength ({maxLine} bytes, line break not counted).");

    private static string Text(ReadOnlySpan<byte> line) => Encoding.UTF8.GetString(line[..Math.Min(line.Length, FailureTextBytes)]);

    private void Grow(int capacity, int loaded)
    {
        if (_buffer.Length < capacity)
        {
            byte[] grown = new byte[capacity];
            _buffer.AsSpan(0, loaded).CopyTo(grown);
            _buffer = grown;
        }
    }

    /// <summary>Reads the file from <c>bufferStart + loaded</c> until <paramref name="capacity"/> bytes are loaded.</summary>
    private void Load(SafeFileHandle handle, FileRange range, long bufferStart, int capacity, ref int loaded)
    {
        while (loaded < capacity)
        {
            int read = RandomAccess.Read(handle, _buffer.AsSpan(loaded, capacity - loaded), bufferStart + loaded);
            if (read == 0)
            {
                throw new IOException($"{range.Path} ended at byte {bufferStart + loaded}, before the {source.FileLength(range.FileIndex)} bytes it had when the source was created.");
            }

            loaded += read;
        }
    }
}
