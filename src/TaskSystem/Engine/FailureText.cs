using System.Buffers;
using System.Text.Unicode;

namespace TaskSystem.Engine;

/// <summary>Text about a failure, bounded so that a huge exception cannot bloat every row and response that carries it.</summary>
internal static class FailureText
{
    private const string Cut = "\n... (cut)";

    /// <summary><paramref name="text"/> if it fits in <paramref name="maxBytes"/> of UTF-8, else its start (whole characters) and a mark.</summary>
    public static string Bounded(string text, int maxBytes)
    {
        if (text.Length * 3 <= maxBytes)
        {
            return text;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            var status = Utf8.FromUtf16(text, buffer.AsSpan(0, maxBytes), out _, out _);
            if (status == System.Buffers.OperationStatus.Done)
            {
                return text;
            }

            Utf8.FromUtf16(text, buffer.AsSpan(0, maxBytes - Cut.Length), out var charsRead, out _, isFinalBlock: false);
            return string.Concat(text.AsSpan(0, charsRead), Cut);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
