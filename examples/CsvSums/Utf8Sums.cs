using System.Buffers;
using System.Buffers.Text;
using System.Runtime.CompilerServices;

/// <summary>
/// Parsing and formatting straight from and to UTF-8 bytes: what makes a row cheap enough for two cores to beat one.
/// The benchmark suite's hand-written limit compiles this same file, so the two differ only in how ranges are run.
/// </summary>
internal static class Utf8Sums
{
    /// <summary>
    /// Sums the comma-separated integers of a row (optional leading '-', then 1 to 18 digits; no spaces); an empty
    /// row sums to 0.
    /// </summary>
    /// <exception cref="FormatException">A field is not such an integer.</exception>
    // PERF: called once per row from the first row on; optimized at once rather than after tiering's delay.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static long Sum(ReadOnlySpan<byte> row)
    {
        if (row.IsEmpty)
        {
            return 0;
        }

        long sum = 0;
        int i = 0;
        while (true)
        {
            bool negative = row[i] == '-';
            i += negative ? 1 : 0;
            int first = i;
            long value = 0;
            while (i < row.Length)
            {
                uint digit = (uint)(row[i] - '0');
                if (digit > 9)
                {
                    break;
                }

                value = (value * 10) + digit;
                i++;
            }

            if (i - first is < 1 or > 18)
            {
                throw new FormatException("not an integer row");
            }

            sum += negative ? -value : value;
            if (i == row.Length)
            {
                return sum;
            }

            if (row[i] != ',' || ++i == row.Length)
            {
                throw new FormatException("not an integer row");
            }
        }
    }

    /// <summary>Appends <paramref name="sum"/> and a line feed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Append(ArrayBufferWriter<byte> output, long sum)
    {
        Span<byte> span = output.GetSpan(21);
        Utf8Formatter.TryFormat(sum, span, out int written);
        span[written] = (byte)'\n';
        output.Advance(written + 1);
    }
}
