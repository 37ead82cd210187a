using System.Text;
using TaskSystem.AspNetCore.Http;

namespace TaskSystem.Server.Tests.Api;

/// <summary>The envelope parser and the body's JSON checks, without HTTP.</summary>
public sealed class TaskEnvelopeTests
{
    private static JsonRequestBody Body(string json) => JsonRequestBody.Parse(Encoding.UTF8.GetBytes(json), maxPayloadDepth: 4, envelopeLevels: 1);

    [Fact]
    public void Parse_FullEnvelope_SetsEveryField()
    {
        using var body = Body("""{"type": "mail", "payload": {"to": "a"}, "queue": "q", "priority": -3, "maxAttempts": 2, "timeoutSeconds": 1.5, "runAt": "2030-01-01T12:00:00Z"}""");

        var (request, problem) = TaskEnvelope.Parse(body.Root, defaultType: null);

        Assert.Null(problem);
        Assert.Equal(("mail", "q", -3, 2, TimeSpan.FromSeconds(1.5)), (request!.Type, request.Queue, request.Priority, request.MaxAttempts, request.Timeout));
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero), request.RunAt);
        Assert.Equal("a", request.Payload!.Value.GetProperty("to").GetString());
    }

    [Fact]
    public void Parse_ObjectWithoutType_IsThePayloadOfTheDefaultType_OrAProblemWithoutOne()
    {
        using var body = Body("""{"name": "Jean"}""");

        var (request, _) = TaskEnvelope.Parse(body.Root, defaultType: "demo");
        var (none, problem) = TaskEnvelope.Parse(body.Root, defaultType: null);

        Assert.Equal("demo", request!.Type);
        Assert.Equal("Jean", request.Payload!.Value.GetProperty("name").GetString());
        Assert.Null(none);
        Assert.Equal((400, "type"), (problem!.Status, problem.Field));
    }

    [Theory]
    [InlineData("""{"type": "a", "priority": "high"}""", "priority")]
    [InlineData("""{"type": "a", "maxAttempts": 2.5}""", "maxAttempts")]
    [InlineData("""{"type": "a", "timeoutSeconds": -1}""", "timeoutSeconds")]
    [InlineData("""{"type": "a", "runAt": "2030-01-01T12:00:00"}""", "runAt")]
    [InlineData("""{"type": "a", "payload": "text"}""", "payload")]
    [InlineData("""{"type": "a", "extra": 1}""", "extra")]
    [InlineData("""{"type": 7}""", "type")]
    public void Parse_WrongField_NamesIt(string json, string field)
    {
        using var body = Body(json);

        var (request, problem) = TaskEnvelope.Parse(body.Root, defaultType: null);

        Assert.Null(request);
        Assert.Equal((400, field), (problem!.Status, problem.Field));
    }

    [Theory]
    [InlineData("""{"a": 1, "a": 2}""", "appears twice")]
    [InlineData("""{"type": "a", "payload": {"x": 1, "x": 1}}""", "appears twice")]
    [InlineData("""{"a": [[[[[1]]]]]}""", "nested deeper than 4 levels")]
    [InlineData("""{"a": [[[[[1]]]]], "a": 2}""", "nested deeper than 4 levels")]
    [InlineData("""{"a": 1,}""", "not valid JSON")]
    [InlineData("""{"\ud800": 1}""", "lone UTF-16 surrogate")]
    [InlineData("""{"a": "\udc00"}""", "lone UTF-16 surrogate")]
    [InlineData("", "empty")]
    public void Parse_BadJson_SaysWhatIsWrong(string json, string message)
    {
        using var body = Body(json);

        Assert.Contains(message, body.Problem?.Detail, StringComparison.Ordinal);
        Assert.Equal(400, body.Problem!.Status);
    }

    [Fact]
    public void Parse_AtTheDepthLimit_IsAccepted()
    {
        using var body = Body("""{"type": "a", "payload": {"b": {"c": {"d": 1}}}}""");

        Assert.Null(body.Problem);
    }
}
