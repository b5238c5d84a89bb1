/// <summary>
/// The row normalization of the BloomFilter example done on UTF-8 bytes, for rows in the plain form the generator
/// writes: what lets the file source skip a string per row. For any row it accepts it writes exactly the bytes that
/// <c>Hash(Parse(text))</c> hashes, so both paths build the same filter (the example's tests compare the digests);
/// any other row (non-ASCII, signs, spaces, other number forms) is left to the string path.
/// </summary>
internal static class Utf8Rows
{
    /// <summary>Writes <c>id|NAME|CITY|amount|quantity</c> for a row <c>id,name,city,amount,quantity</c>.</summary>
    /// <returns><see langword="false"/> if the row is not in the plain form (or does not fit): use the string path.</returns>
    public static bool TryNormalize(ReadOnlySpan<byte> row, Span<byte> destination, out int written)
    {
        written = 0;
        Span<Range> fields = stackalloc Range[5];
        int count = 0;
        foreach (Range field in row.Split((byte)','))
        {
            if (count == fields.Length)
            {
                return false;
            }

            fields[count++] = field;
        }

        if (count != 5 || row.Length > destination.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> id = row[fields[0]], name = Trim(row[fields[1]]), city = Trim(row[fields[2]]), amount = row[fields[3]], quantity = row[fields[4]];
        if (!PlainDigits(id, 18) || !PlainDigits(quantity, 9) || !Ascii(name) || !Ascii(city))
        {
            return false;
        }

        // An amount "digits.dd" formats back to itself with "0.00".
        int point = amount.IndexOf((byte)'.');
        if (point < 1 || point != amount.Length - 3 || !PlainDigits(amount[..point], 15) || !AllDigits(amount[(point + 1)..]))
        {
            return false;
        }

        int at = 0;
        Append(destination, ref at, id);
        destination[at++] = (byte)'|';
        AppendUpper(destination, ref at, name);
        destination[at++] = (byte)'|';
        AppendUpper(destination, ref at, city);
        destination[at++] = (byte)'|';
        Append(destination, ref at, amount);
        destination[at++] = (byte)'|';
        Append(destination, ref at, quantity);
        written = at;
        return true;
    }

    // What long.Parse / int.Parse accept and format back unchanged: 1 to maxDigits digits, no leading zero.
    private static bool PlainDigits(ReadOnlySpan<byte> field, int maxDigits) =>
        field.Length >= 1 && field.Length <= maxDigits && AllDigits(field) && (field[0] != '0' || field.Length == 1);

    private static bool AllDigits(ReadOnlySpan<byte> field)
    {
        foreach (byte b in field)
        {
            if ((uint)(b - '0') > 9)
            {
                return false;
            }
        }

        return true;
    }

    // Printable ASCII without the characters string.Trim would have removed inside (it removes only at the ends).
    private static bool Ascii(ReadOnlySpan<byte> field)
    {
        foreach (byte b in field)
        {
            if (b is < 0x20 or >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    // string.Trim's ASCII white space at both ends; other bytes (non-ASCII white space) fail Ascii above.
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> field) => field.Trim(" \t\n\v\f\r"u8);

    private static void Append(Span<byte> destination, ref int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[at..]);
        at += bytes.Length;
    }

    private static void AppendUpper(Span<byte> destination, ref int at, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            destination[at++] = (uint)(b - 'a') <= 'z' - 'a' ? (byte)(b - 32) : b;
        }
    }
}
