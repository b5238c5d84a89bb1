using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace Parallelize.Benchmarks;

/// <summary>
/// The hand-written limit of the CSV sum: the file cut into 4 MB line-aligned byte ranges, each read, parsed from
/// UTF-8 bytes and formatted by one of two threads, the formatted ranges written in order by the calling thread, at
/// most four ranges between read and written. No library, no per-row accounting, no positions: what the file source is
/// measured against. Parsing is the same code as the CsvSums example's (<see cref="Utf8Sums"/>).
/// </summary>
internal static class EtlLimit
{
    private const int RangeSize = 4 * 1024 * 1024;
    private const int Window = 4;
    private const int Tail = 64 * 1024;

    public static long Run(string input, string output, int threads)
    {
        long length = new FileInfo(input).Length;
        int ranges = (int)((length + RangeSize - 1) / RangeSize);
        var done = new TaskCompletionSource<(ArrayBufferWriter<byte> Sums, long Rows)>[ranges];
        for (int i = 0; i < ranges; i++)
        {
            done[i] = new TaskCompletionSource<(ArrayBufferWriter<byte>, long)>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        // window: a thread takes a range only when fewer than Window ranges are taken and not yet written.
        using var window = new SemaphoreSlim(Window);
        var free = new System.Collections.Concurrent.ConcurrentBag<ArrayBufferWriter<byte>>();
        int next = -1;
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                byte[] buffer = new byte[RangeSize + Tail + 1];
                using SafeFileHandle handle = File.OpenHandle(input);
                while (true)
                {
                    window.Wait();
                    int index = Interlocked.Increment(ref next);
                    if (index >= ranges)
                    {
                        window.Release();
                        return;
                    }

                    ArrayBufferWriter<byte> sums = free.TryTake(out ArrayBufferWriter<byte>? reused) ? reused : new ArrayBufferWriter<byte>(256 * 1024);
                    long rows = SumRange(handle, length, (long)index * RangeSize, buffer, sums);
                    done[index].SetResult((sums, rows));
                }
            })
            { IsBackground = true };
            workers[t].Start();
        }

        long total = 0;
        using (var stream = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            for (int i = 0; i < ranges; i++)
            {
                (ArrayBufferWriter<byte> sums, long rows) = done[i].Task.Result;
                stream.Write(sums.WrittenSpan);
                total += rows;
                sums.ResetWrittenCount();
                free.Add(sums);
                window.Release();
            }
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        return total;
    }

    // The lines that start in [start, start + RangeSize): skip the partial first line, read on past the end to finish the last.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long SumRange(SafeFileHandle handle, long length, long start, byte[] buffer, ArrayBufferWriter<byte> sums)
    {
        long end = Math.Min(start + RangeSize, length);
        long from = start == 0 ? 0 : start - 1;
        int count = (int)Math.Min(buffer.Length, length - from);
        int loaded = 0;
        while (loaded < count)
        {
            int read = RandomAccess.Read(handle, buffer.AsSpan(loaded, count - loaded), from + loaded);
            if (read == 0)
            {
                throw new IOException("The file got shorter.");
            }

            loaded += read;
        }

        int position = 0;
        if (start > 0)
        {
            int newline = buffer.AsSpan(0, (int)(end - start)).IndexOf((byte)'\n');
            if (newline < 0)
            {
                return 0;
            }

            position = newline + 1;
        }

        long rows = 0;
        while (from + position < end)
        {
            int newline = buffer.AsSpan(position, loaded - position).IndexOf((byte)'\n');
            if (newline < 0)
            {
                if (from + loaded < length)
                {
                    throw new InvalidDataException("A line is longer than the limit's 64 KB tail.");
                }

                newline = loaded - position;
            }

            ReadOnlySpan<byte> line = buffer.AsSpan(position, newline);
            if (!line.IsEmpty && line[^1] == '\r')
            {
                line = line[..^1];
            }

            Utf8Sums.Append(sums, Utf8Sums.Sum(line));
            rows++;
            position += newline + 1;
        }

        return rows;
    }
}
